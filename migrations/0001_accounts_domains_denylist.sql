CREATE TABLE `denylist` (
	`entry` text PRIMARY KEY NOT NULL,
	`reason` text,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`sending_verified` integer DEFAULT false NOT NULL,
	`created` integer NOT NULL,
	FOREIGN KEY (`owner`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `domains_owner_idx` ON `domains` (`owner`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`account` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created` integer NOT NULL,
	`expires` integer NOT NULL,
	FOREIGN KEY (`account`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_account_idx` ON `sessions` (`account`);--> statement-breakpoint
ALTER TABLE `accounts` ADD `recents_json` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_received_idx` ON `messages` (`received`);--> statement-breakpoint
CREATE INDEX `messages_domain_received_idx` ON `messages` (`domain`,`received`);