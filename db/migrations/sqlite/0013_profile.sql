-- The medical profile ("Profil médical", domain.md; mes-model.md §3). It is
-- the person's own record: never served to professionals, who read the
-- synthèse the person files in the documents instead.

-- One row per entry of a list section (maladies, traitements, allergies,
-- contacts of the entourage…): the section's fields as a JSON object,
-- validated in Go (dmp/profile) before it is written.
CREATE TABLE profile_entries (
	id INTEGER PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	section TEXT NOT NULL CHECK (section IN ('follow-ups', 'diseases', 'hospitalizations', 'treatments', 'disabilities',
		'allergies', 'family-histories', 'health-professionals', 'contacts')),
	data TEXT NOT NULL,
	author_id BIGINT,           -- who wrote it: the person, or their representative
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX profile_entries_person ON profile_entries (person_id, section, id);

-- Measures with their history: one row per measurement; blood pressure
-- has two metrics (systolic in value, diastolic in value2).
CREATE TABLE profile_measures (
	id INTEGER PRIMARY KEY,
	person_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	code TEXT NOT NULL,
	value DOUBLE PRECISION NOT NULL,
	value2 DOUBLE PRECISION,
	unit TEXT NOT NULL,
	measured_at BIGINT NOT NULL,
	comment TEXT NOT NULL DEFAULT '',
	author_id BIGINT,
	created_at BIGINT NOT NULL
);
CREATE INDEX profile_measures_person ON profile_measures (person_id, code, measured_at);

-- What the profile holds once per person: health characteristics (blood
-- group), the organ-donation position, and the advance directives (a
-- document of the library, or the online form as JSON).
CREATE TABLE profile_singletons (
	person_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	characteristics TEXT NOT NULL DEFAULT '{}',
	organ_donation TEXT NOT NULL DEFAULT '{}',
	directives TEXT NOT NULL DEFAULT '{}',
	updated_at BIGINT NOT NULL
);
