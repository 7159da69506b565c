CREATE TABLE `deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`address` text NOT NULL,
	`message_id` text NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`created` integer NOT NULL,
	`updated` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `deliveries_address_created_idx` ON `deliveries` (`address`,`created`);--> statement-breakpoint
CREATE TABLE `outbound_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`account` text NOT NULL,
	`message_id_header` text NOT NULL,
	`from_address` text NOT NULL,
	`recipients_json` text NOT NULL,
	`subject` text DEFAULT '' NOT NULL,
	`size` integer NOT NULL,
	`outcome_json` text NOT NULL,
	`created` integer NOT NULL,
	FOREIGN KEY (`account`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `outbound_messages_account_created_idx` ON `outbound_messages` (`account`,`created`);--> statement-breakpoint
ALTER TABLE `private_addresses` ADD `webhook_secret` text;