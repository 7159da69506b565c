ALTER TABLE `messages` ADD `via` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `rtls` integer;