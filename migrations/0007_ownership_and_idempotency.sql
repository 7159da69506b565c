CREATE TABLE `arrival_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`messages_json` text NOT NULL,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `arrival_keys_created_idx` ON `arrival_keys` (`created`);--> statement-breakpoint
ALTER TABLE `deliveries` ADD `account` text REFERENCES accounts(id) ON DELETE cascade;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `queued_at` integer;--> statement-breakpoint
CREATE INDEX `deliveries_unqueued_idx` ON `deliveries` (`created`) WHERE "deliveries"."queued_at" is null;--> statement-breakpoint
ALTER TABLE `messages` ADD `crlf_size` integer;--> statement-breakpoint
-- Rows from before the column: the address's owner now is the best record of who configured it.
UPDATE `deliveries` SET `account` = (SELECT `owner` FROM `private_addresses` WHERE `private_addresses`.`email` = `deliveries`.`address`);--> statement-breakpoint
-- Rows from before the column were either queued or marked failed at ingest: none waits for the sweep.
UPDATE `deliveries` SET `queued_at` = `created`;
