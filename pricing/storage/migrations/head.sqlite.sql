CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE editions (
	id INTEGER NOT NULL, 
	effective_from DATE NOT NULL, 
	source TEXT NOT NULL, 
	imported_at DATETIME NOT NULL, 
	imported_by VARCHAR(200) NOT NULL, 
	item_count INTEGER NOT NULL, 
	source_sha256 VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE price_items (
	edition_id INTEGER NOT NULL, 
	sku_key VARCHAR(200) NOT NULL, 
	position INTEGER NOT NULL, 
	sku VARCHAR(200) NOT NULL, 
	name TEXT, 
	family VARCHAR(200), 
	list_price BIGINT NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	unit_cost BIGINT, 
	floor_price BIGINT, 
	status VARCHAR(100), 
	PRIMARY KEY (edition_id, sku_key), 
	FOREIGN KEY(edition_id) REFERENCES editions (id)
);

CREATE TABLE price_tiers (
	edition_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	sku VARCHAR(200), 
	family VARCHAR(200), 
	min_qty INTEGER NOT NULL, 
	price BIGINT, 
	discount_pct BIGINT, 
	PRIMARY KEY (edition_id, position), 
	FOREIGN KEY(edition_id) REFERENCES editions (id)
);

CREATE TABLE policies (
	id INTEGER NOT NULL, 
	effective_from DATE NOT NULL, 
	loaded_at DATETIME NOT NULL, 
	loaded_by VARCHAR(200) NOT NULL, 
	source TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	text TEXT NOT NULL, 
	body TEXT NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE requests (
	id INTEGER NOT NULL, 
	customer TEXT NOT NULL, 
	reason TEXT NOT NULL, 
	rep VARCHAR(200) NOT NULL, 
	status VARCHAR(20) NOT NULL, 
	level VARCHAR(100), 
	currency VARCHAR(3) NOT NULL, 
	policy_version INTEGER NOT NULL, 
	edition_id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	decided_at DATETIME, 
	decided_by VARCHAR(200), 
	expires_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(policy_version) REFERENCES policies (id), 
	FOREIGN KEY(edition_id) REFERENCES editions (id)
);

CREATE INDEX ix_requests_status ON requests (status);

CREATE INDEX ix_requests_rep ON requests (rep);

CREATE TABLE request_lines (
	request_id INTEGER NOT NULL, 
	line_no INTEGER NOT NULL, 
	sku VARCHAR(200) NOT NULL, 
	family VARCHAR(200), 
	qty INTEGER NOT NULL, 
	list_price BIGINT NOT NULL, 
	standard_price BIGINT NOT NULL, 
	price BIGINT NOT NULL, 
	discount_pct BIGINT NOT NULL, 
	unit_cost BIGINT, 
	hard_floor BIGINT, 
	decision VARCHAR(20) NOT NULL, 
	level VARCHAR(100), 
	reasons TEXT NOT NULL, 
	PRIMARY KEY (request_id, line_no), 
	FOREIGN KEY(request_id) REFERENCES requests (id)
);

CREATE TABLE deal_imports (
	id INTEGER NOT NULL, 
	source TEXT NOT NULL, 
	imported_at DATETIME NOT NULL, 
	imported_by VARCHAR(200) NOT NULL, 
	lines INTEGER NOT NULL, 
	added INTEGER NOT NULL, sha256 VARCHAR(64), columns TEXT, date_format VARCHAR(100), decimal VARCHAR(10), first_date DATE, last_date DATE, held_keys BLOB, status_filter TEXT, skipped_by_status TEXT, 
	PRIMARY KEY (id)
);

CREATE TABLE deal_segments (
	id INTEGER NOT NULL, 
	import_id INTEGER, 
	lines INTEGER NOT NULL, 
	first_date DATE NOT NULL, 
	last_date DATE NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(import_id) REFERENCES deal_imports (id)
);

CREATE INDEX ix_deal_segments_last_date ON deal_segments (last_date);

CREATE TABLE deal_columns (
	segment_id INTEGER NOT NULL, 
	name VARCHAR(40) NOT NULL, 
	data BLOB NOT NULL, seal VARCHAR(80), 
	PRIMARY KEY (segment_id, name), 
	FOREIGN KEY(segment_id) REFERENCES deal_segments (id)
);

CREATE TABLE edition_columns (
	edition_id INTEGER NOT NULL, 
	data BLOB NOT NULL, 
	PRIMARY KEY (edition_id), 
	FOREIGN KEY(edition_id) REFERENCES editions (id)
);

CREATE TABLE people (
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	name_key VARCHAR(200) NOT NULL, 
	role VARCHAR(100) NOT NULL, 
	email TEXT, 
	token_hash VARCHAR(64), 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR(200) NOT NULL, 
	removed_at DATETIME, since_request INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (name_key), 
	UNIQUE (token_hash)
);

CREATE TABLE audit_log (
	seq INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	"by" VARCHAR(200) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	subject VARCHAR(200) NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	note TEXT, 
	key_id VARCHAR(16) NOT NULL, 
	mac VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);

CREATE INDEX ix_audit_log_subject ON audit_log (subject);

CREATE TABLE "request_events" (
	id INTEGER NOT NULL, 
	request_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	"by" VARCHAR(200) NOT NULL, 
	action VARCHAR(30) NOT NULL, 
	note TEXT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(request_id) REFERENCES requests (id)
);

CREATE INDEX ix_request_events_request ON request_events (request_id);

CREATE INDEX ix_deal_imports_sha256 ON deal_imports (sha256);

CREATE TABLE deal_manifests (
	import_id INTEGER NOT NULL, 
	body TEXT NOT NULL, 
	seal VARCHAR(80) NOT NULL, 
	PRIMARY KEY (import_id)
);

CREATE TABLE audit_state (
	name VARCHAR(40) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE passwords (
	name_key VARCHAR(200) NOT NULL, 
	hash TEXT NOT NULL, 
	initial BOOLEAN NOT NULL, 
	changed_at DATETIME NOT NULL, 
	PRIMARY KEY (name_key)
);

CREATE TABLE web_sessions (
	id_hash VARCHAR(64) NOT NULL, 
	name_key VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (id_hash)
);

CREATE INDEX ix_web_sessions_name ON web_sessions (name_key);

CREATE TABLE mail_outbox (
	id INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	kind VARCHAR(30) NOT NULL, 
	request_id INTEGER, 
	recipient TEXT NOT NULL, 
	subject TEXT NOT NULL, 
	body TEXT NOT NULL, 
	link TEXT, 
	seal VARCHAR(64) NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_at DATETIME NOT NULL, 
	sent_at DATETIME, 
	last_error TEXT, 
	PRIMARY KEY (id)
);

CREATE INDEX ix_mail_outbox_due ON mail_outbox (sent_at, next_at);

CREATE TABLE contract_terms (
	request_id INTEGER NOT NULL, 
	starts DATE NOT NULL, 
	ends DATE NOT NULL, 
	ended_at DATETIME, 
	ended_by VARCHAR(200), 
	PRIMARY KEY (request_id), 
	FOREIGN KEY(request_id) REFERENCES requests (id)
);

CREATE TABLE fx_imports (
	id INTEGER NOT NULL, 
	source TEXT NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	imported_at DATETIME NOT NULL, 
	imported_by VARCHAR(200) NOT NULL, 
	rates INTEGER NOT NULL, 
	added INTEGER NOT NULL, 
	changed INTEGER NOT NULL, 
	first_day VARCHAR(10) NOT NULL, 
	last_day VARCHAR(10) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE fx_series (
	import_id INTEGER NOT NULL, 
	base VARCHAR(3) NOT NULL, 
	currency VARCHAR(3) NOT NULL, 
	position INTEGER NOT NULL, 
	first_day VARCHAR(10) NOT NULL, 
	last_day VARCHAR(10) NOT NULL, 
	days INTEGER NOT NULL, 
	rates TEXT NOT NULL, 
	PRIMARY KEY (import_id, base, currency), 
	FOREIGN KEY(import_id) REFERENCES fx_imports (id)
);

CREATE INDEX ix_fx_series_pair ON fx_series (base, currency);

CREATE TABLE approval_reuses (
	request_id INTEGER NOT NULL, 
	approval_id INTEGER NOT NULL, 
	PRIMARY KEY (request_id), 
	FOREIGN KEY(request_id) REFERENCES requests (id), 
	FOREIGN KEY(approval_id) REFERENCES requests (id)
);

CREATE INDEX ix_approval_reuses_approval ON approval_reuses (approval_id);

