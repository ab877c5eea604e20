-- An email knows whose account it was sent to, and keeps the one-time links it carries sealed.
--
-- `recipient_account` (`customer:<uuid>`, `staff:<uuid>`) is what a GDPR export and an erasure
-- match on: staff and customers are separate realms that may share an email address, so an
-- address says nothing about whose mail it is. Emails recorded before this migration have none
-- and belong to no account's export.
--
-- `sealed_content` holds the email as it goes to its recipient when it carries a one-time
-- credential (a password-reset, invitation or verification link): sealed with the deployment's
-- key, opened only by the delivery job to hand it to the SMTP server, and dropped once the email
-- is delivered or kept in the mailbox. The subject and bodies stored beside it show the link
-- redacted, so no mailbox, export or database copy hands the link to anyone else.
ALTER TABLE notification_messages
    ADD COLUMN recipient_account text CHECK (recipient_account ~ '^(customer|staff):[0-9a-f-]{36}$'),
    ADD COLUMN sealed_content bytea;

CREATE INDEX notification_messages_by_account
    ON notification_messages (recipient_account, created_at, id) WHERE recipient_account IS NOT NULL;
