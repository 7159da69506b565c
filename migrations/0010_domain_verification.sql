ALTER TABLE `domains` ADD `verification_token` text;--> statement-breakpoint
ALTER TABLE `domains` ADD `verified` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `domains` ADD `verified_mx` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `domains` ADD `last_verification_errors` text;--> statement-breakpoint
ALTER TABLE `domains` ADD `last_verified` integer;--> statement-breakpoint
-- HAND-WRITTEN (not drizzle-kit): domains assigned before this migration get their TXT token.
-- SQLite cannot ADD a column with a random default, so new rows get theirs from the insert.
UPDATE `domains` SET `verification_token` = lower(hex(randomblob(16))) WHERE `verification_token` IS NULL;
