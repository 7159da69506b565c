ALTER TABLE `messages` ADD `search_text` text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Hand-written: mail stored before this migration gets its subject and people (as their JSON,
-- which holds every name and address) so plain words still find it by them; its body is not
-- searched. SQLite's lower() is ASCII-only, unlike the lower-casing at ingest.
UPDATE `messages` SET `search_text` = lower(`subject` || char(10) || `from_json` || char(10) || `to_json` || char(10) || `cc_json`);
