DROP INDEX `messages_received_stats_idx`;--> statement-breakpoint
ALTER TABLE `messages` ADD `inbox_reserved` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `messages` ADD `domain_owned` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- Hand-written from here to the indexes (drizzle-kit does not model triggers). The flags say
-- whether a message's inbox is reserved / its domain owned right now. The triggers below keep
-- them so inside the statement that changes either side, whichever code path (or foreign key
-- cascade, e.g. deleting an account) runs it; mail already stored is backfilled first.
UPDATE `messages` SET `inbox_reserved` = 1 WHERE `inbox` IN (SELECT `email` FROM `private_addresses`);--> statement-breakpoint
UPDATE `messages` SET `domain_owned` = 1 WHERE `domain` IN (SELECT `domain` FROM `domains`);--> statement-breakpoint
-- Only mail to a reserved inbox or an owned domain pays for a second write at insert.
CREATE TRIGGER `messages_inbox_reserved_on_insert` AFTER INSERT ON `messages`
WHEN EXISTS (SELECT 1 FROM `private_addresses` WHERE `email` = NEW.`inbox`)
BEGIN
  UPDATE `messages` SET `inbox_reserved` = 1 WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `messages_domain_owned_on_insert` AFTER INSERT ON `messages`
WHEN EXISTS (SELECT 1 FROM `domains` WHERE `domain` = NEW.`domain`)
BEGIN
  UPDATE `messages` SET `domain_owned` = 1 WHERE `id` = NEW.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `private_addresses_reserve_messages` AFTER INSERT ON `private_addresses`
BEGIN
  UPDATE `messages` SET `inbox_reserved` = 1 WHERE `inbox` = NEW.`email`;
END;--> statement-breakpoint
CREATE TRIGGER `private_addresses_release_messages` AFTER DELETE ON `private_addresses`
BEGIN
  UPDATE `messages` SET `inbox_reserved` = 0 WHERE `inbox` = OLD.`email`;
END;--> statement-breakpoint
CREATE TRIGGER `domains_claim_messages` AFTER INSERT ON `domains`
BEGIN
  UPDATE `messages` SET `domain_owned` = 1 WHERE `domain` = NEW.`domain`;
END;--> statement-breakpoint
CREATE TRIGGER `domains_release_messages` AFTER DELETE ON `domains`
BEGIN
  UPDATE `messages` SET `domain_owned` = 0 WHERE `domain` = OLD.`domain`;
END;--> statement-breakpoint
CREATE INDEX `messages_public_inbox_idx` ON `messages` (`inbox`,`received`,`saved_by`,`inbox_reserved`,`domain_owned`) WHERE ("messages"."saved_by" is null and "messages"."inbox_reserved" = 0 and "messages"."domain_owned" = 0);--> statement-breakpoint
CREATE INDEX `messages_public_domain_idx` ON `messages` (`domain`,`received`,`saved_by`,`inbox_reserved`,`domain_owned`) WHERE ("messages"."saved_by" is null and "messages"."inbox_reserved" = 0 and "messages"."domain_owned" = 0);--> statement-breakpoint
CREATE INDEX `messages_public_sender_idx` ON `messages` (`sender`,`received`,`saved_by`,`inbox_reserved`,`domain_owned`) WHERE ("messages"."saved_by" is null and "messages"."inbox_reserved" = 0 and "messages"."domain_owned" = 0) and "messages"."sender" <> '';--> statement-breakpoint
CREATE INDEX `messages_public_received_idx` ON `messages` (`received`,`saved_by`,`inbox_reserved`,`domain_owned`) WHERE ("messages"."saved_by" is null and "messages"."inbox_reserved" = 0 and "messages"."domain_owned" = 0);--> statement-breakpoint
CREATE INDEX `messages_public_attachments_idx` ON `messages` (`received`,`attachments_json`,`saved_by`,`inbox_reserved`,`domain_owned`) WHERE ("messages"."saved_by" is null and "messages"."inbox_reserved" = 0 and "messages"."domain_owned" = 0) and "messages"."attachments_json" <> '[]';