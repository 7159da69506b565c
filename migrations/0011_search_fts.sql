-- Hand-written (drizzle-kit generate --custom; drizzle has no virtual tables): #17.3 search
-- p99. A trigram FTS5 index over messages.search_text, so a plain word or phrase of 3+
-- characters is an index lookup instead of instr() over every row of the account
-- (Cloudflare D1 supports the FTS5 module: developers.cloudflare.com/d1/sql-api/sql-statements).
-- The index is keyed by messages_fts_ids, whose INTEGER PRIMARY KEY rowids VACUUM keeps
-- (messages' own implicit rowids it may renumber). Triggers keep both in step with messages:
-- a migration that rebuilds the messages table drops them and must create them again.
CREATE TABLE `messages_fts_ids` (`rowid` integer PRIMARY KEY, `message_id` text NOT NULL UNIQUE);
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(`search_text`, tokenize = 'trigram');
--> statement-breakpoint
INSERT INTO `messages_fts_ids` (`message_id`) SELECT `id` FROM `messages`;
--> statement-breakpoint
INSERT INTO `messages_fts` (`rowid`, `search_text`)
  SELECT `i`.`rowid`, `m`.`search_text` FROM `messages_fts_ids` `i` JOIN `messages` `m` ON `m`.`id` = `i`.`message_id`;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT OR REPLACE INTO `messages_fts_ids` (`message_id`) VALUES (new.`id`);
  INSERT INTO `messages_fts` (`rowid`, `search_text`)
    VALUES ((SELECT `rowid` FROM `messages_fts_ids` WHERE `message_id` = new.`id`), new.`search_text`);
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  DELETE FROM `messages_fts` WHERE `rowid` = (SELECT `rowid` FROM `messages_fts_ids` WHERE `message_id` = old.`id`);
  DELETE FROM `messages_fts_ids` WHERE `message_id` = old.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF `search_text` ON `messages` BEGIN
  UPDATE `messages_fts` SET `search_text` = new.`search_text`
    WHERE `rowid` = (SELECT `rowid` FROM `messages_fts_ids` WHERE `message_id` = old.`id`);
END;
