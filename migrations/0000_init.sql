CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`api_key_hash` text NOT NULL,
	`message_limit` integer DEFAULT 1000 NOT NULL,
	`sends_remaining` integer DEFAULT 0 NOT NULL,
	`private_address_credits` integer DEFAULT 0 NOT NULL,
	`catch_all` integer DEFAULT 0 NOT NULL,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `accounts_api_key_hash_idx` ON `accounts` (`api_key_hash`);--> statement-breakpoint
CREATE TABLE `attachment_blobs` (
	`md5` text PRIMARY KEY NOT NULL,
	`size` integer NOT NULL,
	`touched` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_attachments` (
	`message_id` text NOT NULL,
	`position` integer NOT NULL,
	`md5` text NOT NULL,
	`filename` text,
	`content_type` text NOT NULL,
	`content_disposition` text,
	`content_id` text,
	`size` integer NOT NULL,
	PRIMARY KEY(`message_id`, `position`),
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `message_attachments_md5_idx` ON `message_attachments` (`md5`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` text PRIMARY KEY NOT NULL,
	`inbox` text NOT NULL,
	`original_inbox` text NOT NULL,
	`domain` text NOT NULL,
	`from_json` text NOT NULL,
	`to_json` text NOT NULL,
	`cc_json` text NOT NULL,
	`bcc_json` text NOT NULL,
	`subject` text DEFAULT '' NOT NULL,
	`received` integer NOT NULL,
	`size` integer NOT NULL,
	`attachments_json` text NOT NULL,
	`saved_by` text,
	`labels_json` text NOT NULL,
	`folder` text DEFAULT 'inbox' NOT NULL,
	`read` integer DEFAULT false NOT NULL,
	`headers_json` text NOT NULL,
	`envelope_from` text DEFAULT '' NOT NULL,
	`ip` text,
	`pack_key` text NOT NULL,
	`raw_offset` integer NOT NULL,
	`content_offset` integer NOT NULL,
	`content_length` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `messages_inbox_received_idx` ON `messages` (`inbox`,`received`);--> statement-breakpoint
CREATE INDEX `messages_saved_by_idx` ON `messages` (`saved_by`) WHERE "messages"."saved_by" is not null;--> statement-breakpoint
CREATE INDEX `messages_pack_key_idx` ON `messages` (`pack_key`);--> statement-breakpoint
CREATE TABLE `private_addresses` (
	`email` text PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`domain` text NOT NULL,
	`encrypted_inbox` text NOT NULL,
	`enablews` integer DEFAULT false NOT NULL,
	`forward` text,
	`webhook` text,
	`webhook_slack` text,
	`webhook_slack_to_from` integer DEFAULT false NOT NULL,
	`info` text,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	FOREIGN KEY (`owner`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `private_addresses_encrypted_inbox_unique` ON `private_addresses` (`encrypted_inbox`);--> statement-breakpoint
CREATE INDEX `private_addresses_owner_idx` ON `private_addresses` (`owner`);