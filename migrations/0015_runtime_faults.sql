CREATE TABLE `fault_rules` (
	`id` integer PRIMARY KEY NOT NULL,
	`rules_json` text NOT NULL,
	`updated` integer NOT NULL
);
