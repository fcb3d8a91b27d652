"""``pricing people``: who may sign in, in which role (the owner's job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pricing.cli.common import emit_json, json_option, print_table, say, settings

if TYPE_CHECKING:
    from pricing.results.people import Person, PersonToken

ROLE_HELP = "rep, manager, owner, marketer (or a level of the policy)"


@click.group(
    epilog="""
\b
Examples:
  pricing people add dana --role owner           (the first person: an owner)
  pricing people add priya --role rep --email priya@example.com
  pricing people list
  pricing people role marco manager
  pricing people email priya priya@example.com
  pricing people reset priya                     (a new token and password; the old ones stop working)
  pricing people remove priya
"""
)
def people() -> None:
    """Who may sign in and in which role: add, list, change roles or addresses, reset, remove."""


def _token_note(answer: PersonToken, verb: str) -> None:
    server = answer.server or "URL"
    pages = f"{answer.server.rstrip('/')}/login" if answer.server else "the server's /login page"
    if answer.yours:
        say(f"{verb} you, {answer.name} ({answer.role}). Your token and web password, shown once:")
        say(f"  token:    {answer.token}")
        say(f"  password: {answer.password}")
        say(
            f"Your sign-in now uses it ({answer.kept_in})." if answer.kept_in
            else f"Your old token no longer works: sign in with `pricing login --server {server}`."
        )  # fmt: skip
        return
    say(f"{verb} {answer.name} ({answer.role}). Their token and web password, shown once:")
    say(f"  token:    {answer.token}")
    say(f"  password: {answer.password}")
    say(
        f"Give them privately; the token signs in the command line (`pricing login --server "
        f"{server}`, or PRICING_TOKEN), the password the web pages ({pages}), where they choose "
        "their own. Both are stored only as keyed hashes: if lost, `pricing people reset`."
    )


@people.command(
    "add",
    epilog="""
\b
Examples:
  pricing people add priya --role rep --email priya@example.com
  pricing people add dana --role owner --json
""",
)
@click.argument("name")
@click.option("--role", required=True, metavar="ROLE", help=f"Their role: {ROLE_HELP}.")
@click.option("--email", metavar="ADDR", help="Where to reach them.")
@json_option
def add(name: str, role: str, email: str | None) -> None:
    """Register a person and print their personal token and web password (once). The first
    person must be an owner; after that only an owner adds people."""
    cfg = settings()
    answer = cfg.pricing().add_person(name=name, role=role, email=email)
    if cfg.json:
        emit_json(answer)
    else:
        _token_note(answer, "Added")


@people.command(
    "list",
    epilog="""
\b
Examples:
  pricing people list
  pricing people list --json
""",
)
@json_option
def list_() -> None:
    """Everyone registered, with their role (removed people marked)."""
    cfg = settings()
    found = cfg.pricing().people()
    if cfg.json:
        emit_json(found)
        return
    if not found:
        say("Nobody is registered: this store trusts --user (add the first owner with "
                   "`pricing people add NAME --role owner`).")  # fmt: skip
        return
    first = _first_registered(found)
    print_table(
        ["Name", "Role", "Email", "Since (UTC)", "Added by", "Access"],
        [
            (
                p.name,
                p.role,
                p.email or "",
                f"{p.created_at:{MINUTE}}",
                ADMINISTRATOR if p is first else p.created_by,
                "yes" if p.removed_at is None else f"removed {p.removed_at:{MINUTE}}",
            )
            for p in found
        ],
    )


# Who added the first person: nobody registered yet, so whoever ran the command on the store
# itself (its created_by is that login name, e.g. root, kept as it is in --json).
ADMINISTRATOR = "the administrator, on the database"
MINUTE = "%Y-%m-%d %H:%M"  # a point in time as the tables show it (UTC)


def _first_registered(found: list[Person]) -> Person | None:
    """The first person ever registered (the store's first owner, added on the database):
    the earliest added; of several added in that second, the one none of them added (every
    later person is added by a registered owner, the first by nobody registered)."""
    if not found:
        return None
    earliest = min(p.created_at for p in found)
    tied = [p for p in found if p.created_at == earliest]
    names = {p.name.casefold() for p in tied}

    def added_by_another_of_them(p: Person) -> bool:
        return p.created_by.casefold() in names - {p.name.casefold()}

    return next((p for p in tied if not added_by_another_of_them(p)), tied[0])


@people.command(
    "role",
    epilog="""
\b
Examples:
  pricing people role marco manager
""",
)
@click.argument("name")
@click.argument("role", metavar="ROLE")
@json_option
def role(name: str, role: str) -> None:
    """Give a person another role (an owner does; nobody changes their own)."""
    cfg = settings()
    answer = cfg.pricing().set_role(name=name, role=role)
    if cfg.json:
        emit_json(answer)
    else:
        say(f"{answer.name} is now {answer.role}.")


@people.command(
    "email",
    epilog="""
\b
Examples:
  pricing people email priya priya@example.com
  pricing people email priya --none             (no mail for her)
""",
)
@click.argument("name")
@click.argument("address", required=False)
@click.option("--none", "no_address", is_flag=True, help="Keep no address: no mail for them.")
@json_option
def email(name: str, address: str | None, no_address: bool) -> None:
    """Give a person another email address (where mail about requests goes)."""
    if (address is None) == (not no_address):
        raise click.UsageError("give the address, or --none (not both)")
    cfg = settings()
    answer = cfg.pricing().set_email(name=name, email=None if no_address else address)
    if cfg.json:
        emit_json(answer)
    else:
        say(f"{answer.name}'s mail goes to {answer.email}." if answer.email
            else f"{answer.name} has no email address: no mail for them.")  # fmt: skip


@people.command(
    "reset",
    epilog="""
\b
Examples:
  pricing people reset priya
""",
)
@click.argument("name")
@json_option
def reset(name: str) -> None:
    """Make a new token and web password for a person; the old ones stop working at once."""
    cfg = settings()
    answer = cfg.pricing().reset_token(name=name)  # one's own: the sign-in kept takes it
    if cfg.json:
        emit_json(answer)
    else:
        _token_note(answer, "New token for")


@people.command(
    "remove",
    epilog="""
\b
Examples:
  pricing people remove priya
""",
)
@click.argument("name")
@json_option
def remove(name: str) -> None:
    """Take a person's access away (what they did stays on record as theirs)."""
    cfg = settings()
    answer = cfg.pricing().remove_person(name=name)
    if cfg.json:
        emit_json(answer)
    else:
        say(f"Removed {answer.name}: their token no longer works.")
