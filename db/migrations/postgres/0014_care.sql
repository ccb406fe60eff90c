-- Pregnancy pathway (domain.md "parcours grossesse"): one row per
-- pregnancy; at most one ongoing (outcome '') per person. Civil dates are
-- TEXT 'YYYY-MM-DD' (no time of day, no zone), '' when absent.
CREATE TABLE pregnancies (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	start_date TEXT NOT NULL,
	outcome TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'accouchement', 'fin')),
	end_date TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	created_by BIGINT NOT NULL
);
CREATE INDEX pregnancies_person ON pregnancies (person_id);
CREATE UNIQUE INDEX pregnancies_ongoing ON pregnancies (person_id) WHERE outcome = '';

-- The agenda's own events (mes-model.md §4 "Agenda"): appointments and
-- reminders the person enters; date is civil, time 'HH:MM' (Europe/Paris)
-- or '' for the whole day.
CREATE TABLE agenda_events (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('appointment', 'reminder')),
	title TEXT NOT NULL,
	event_date TEXT NOT NULL,
	event_time TEXT NOT NULL DEFAULT '',
	with_type TEXT NOT NULL DEFAULT '' CHECK (with_type IN ('', 'practitioner', 'service')),
	with_name TEXT NOT NULL DEFAULT '',
	speciality TEXT NOT NULL DEFAULT '',
	address TEXT NOT NULL DEFAULT '',
	notes TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	created_by BIGINT NOT NULL
);
CREATE INDEX agenda_events_person ON agenda_events (person_id, event_date);

-- What the person says of a computed prevention item (schedule codes, and
-- pregnancy exams as G<pregnancy>-<code>): DONE or NOT_DONE, with the date
-- done. NOT_SPECIFIED is the absence of a row; TO_PLAN is computed.
CREATE TABLE prevention_statuses (
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	item_code TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('DONE', 'NOT_DONE')),
	executed TEXT NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL,
	updated_by BIGINT NOT NULL,
	PRIMARY KEY (person_id, item_code)
);

-- Lifestyle answers ("Habitudes de vie"), append-only: the latest row per
-- question is the answer, the others its history ("Renseigné le …").
CREATE TABLE lifestyle_answers (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	question TEXT NOT NULL,
	value TEXT NOT NULL,
	answered_on TEXT NOT NULL,
	answered_at BIGINT NOT NULL,
	answered_by BIGINT NOT NULL
);
CREATE INDEX lifestyle_answers_person ON lifestyle_answers (person_id, question, answered_at);

-- The person's vaccination record (mes-model.md §4 "Vaccinations");
-- item_code links a dose to the agenda item it fulfils ('' = matched by
-- vaccine and date).
CREATE TABLE vaccinations (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	vaccine TEXT NOT NULL,
	given_on TEXT NOT NULL,
	batch TEXT NOT NULL DEFAULT '',
	professional TEXT NOT NULL DEFAULT '',
	item_code TEXT NOT NULL DEFAULT '',
	notes TEXT NOT NULL DEFAULT '',
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	created_by BIGINT NOT NULL
);
CREATE INDEX vaccinations_person ON vaccinations (person_id, given_on);

-- The secret iCalendar feed of a person's agenda: only the SHA-256 of the
-- token is kept. created_by is re-checked (ActFor) on every fetch, so a
-- feed dies with the representation that made it.
CREATE TABLE agenda_feeds (
	person_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	token_sha256 TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	created_by BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
