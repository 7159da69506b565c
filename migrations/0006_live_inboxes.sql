CREATE TABLE `live_inboxes` (
	`inbox` text PRIMARY KEY NOT NULL,
	`sockets` integer NOT NULL,
	`updated` integer NOT NULL
);
