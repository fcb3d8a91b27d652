"""Client mode: a command's operation asked of the team's server instead of run here.

Light on purpose (the salesperson's `request --check` goes through here): it imports httpx and
the kernel, never SQLAlchemy, pandas or pyarrow. The server answers with the operation's
document (:mod:`pricing.operations`), or with an error of the same kind the core raises, which
is raised again here, so that messages and exit codes are those of embedded mode.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pricing.config import Login

if TYPE_CHECKING:
    import httpx
from pricing.errors import InputError, NotFoundError, PricingError, Refused, ServerError, StoreError

USER_HEADER = "X-Pricing-User"
TIMEOUT = 600.0  # a big deals import is read, matched and stored before the answer comes

ERRORS: dict[str, type[PricingError]] = {
    "input": InputError,
    "not_found": NotFoundError,
    "refused": Refused,
    "store": StoreError,
    "server": ServerError,
}


def call(
    login: Login,
    name: str,
    params: Mapping[str, Any],
    /,
    *,
    files: Mapping[str, Path] | None = None,
    user: str | None = None,
    output: Path | None = None,
) -> Any:
    """Ask the server to run operation ``name``; its document, or the error it raised."""
    import httpx

    if not login.server.startswith(("http://", "https://")):
        raise InputError(
            f"{login.server!r} is not a server address: give it as https://host (or http://host:port)"
        )
    if not login.token:
        raise ServerError(
            f"client mode ({login.server}) needs your token: set PRICING_TOKEN or sign in with "
            f"`pricing login --server {login.server}`"
        )
    _safe_to_send(login)
    headers = {"Authorization": f"Bearer {login.token}"}
    if user:
        headers[USER_HEADER] = user
    url = login.server.rstrip("/") + "/api/" + name
    body: dict[str, Any] = {
        "params": dict(params),
        "names": {k: str(v) for k, v in (files or {}).items()},
        "output": None if output is None else str(output),
    }
    opened: list[BinaryIO] = []
    try:
        uploads: dict[str, tuple[str, BinaryIO, str]] = {}
        for key, path in (files or {}).items():
            handle = _open(path)
            opened.append(handle)
            uploads[key] = (path.name, handle, "application/octet-stream")
        # Plain http needs no TLS context (building one loads the CA bundle: ~35 ms a command).
        verify = url.startswith("https://")
        try:
            if uploads:
                response = httpx.post(url, headers=headers, timeout=TIMEOUT, verify=verify,
                                      data={"request": json.dumps(body)}, files=uploads)  # fmt: skip
            else:
                response = httpx.post(url, headers=headers, timeout=TIMEOUT, json=body,
                                      verify=verify)  # fmt: skip
        except httpx.HTTPError as exc:
            reason = str(exc).rstrip(".")
            raise ServerError(
                f"cannot reach the pricing server at {login.server}: {exc.__class__.__name__}"
                f"{': ' + reason if reason else ''}. Is it running, and is its address right?"
            ) from None
    finally:
        for handle in opened:
            handle.close()
    return _answer(login, response, output)


def _safe_to_send(login: Login) -> None:
    """Refuse to send the token in clear (plain http) to a host other than this machine, unless
    the person said so (``--insecure``): anyone on the network between could read it and act as
    them."""
    from urllib.parse import urlsplit

    address = urlsplit(login.server)
    if address.scheme != "http" or login.insecure or _loopback(address.hostname or ""):
        return
    raise ServerError(
        f"{login.server} is plain http to another host: your token would cross the network "
        "readable by anyone on the way, so it is not sent. Use the server's https:// address; "
        "on a network you trust, sign in with `pricing login --insecure` (or set "
        "PRICING_INSECURE=1)"
    )


def _loopback(host: str) -> bool:
    """This machine (``localhost``, 127.0.0.0/8, ::1): a token sent there never leaves it."""
    import ipaddress

    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _open(path: Path) -> BinaryIO:
    """The file to upload, when it is a regular file (a pipe, a device or a folder is refused
    before it is opened: :mod:`pricing.files`)."""
    from pricing.files import open_regular

    return open_regular(path)


def _answer(login: Login, response: httpx.Response, output: Path | None) -> Any:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ServerError(
            f"the server at {login.server} answered {response.status_code} without a pricing "
            "answer: is PRICING_SERVER the pricing server's address?"
        )
    if "error" not in answer and response.status_code >= 400:
        raise ServerError(
            f"the server at {login.server} refused the call ({response.status_code}): "
            f"{str(answer.get('detail', ''))[:300]}"
        )
    if "error" in answer:
        error = answer["error"]
        kind = ERRORS.get(error.get("kind"), ServerError)
        if kind is InputError:
            raise InputError(error.get("detail", ""), field=error.get("field"))
        raise kind(error.get("message", "the server refused"))
    if output is not None and answer.get("output") is not None:
        try:
            output.write_bytes(base64.b64decode(answer["output"]))
        except OSError as exc:
            raise InputError(f"{output}: cannot be written ({exc.strerror})") from None
    return answer.get("document")
