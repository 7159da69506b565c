DROP INDEX `messages_received_idx`;--> statement-breakpoint
ALTER TABLE `messages` ADD `sender` text DEFAULT '' NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_received_stats_idx` ON `messages` (`received`,`saved_by`,`inbox`,`domain`,`sender`);--> statement-breakpoint
UPDATE `messages` SET `sender` = lower(coalesce(json_extract(`from_json`, '$[0].address'), ''));
