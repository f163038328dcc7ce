-- The last serial handed out per NIK prefix (kecamatan, birth date, sex), KK prefix and
-- document prefix, so registration finds the next free number in one probe instead of
-- walking every serial already used that day. Keys are blind indexes or document prefixes.
-- Only a hint: allocation still checks the number is free, so a missing or stale row costs
-- probes, never a duplicate.
CREATE TABLE serial_hints (
    key    TEXT PRIMARY KEY,
    serial BIGINT NOT NULL
);
