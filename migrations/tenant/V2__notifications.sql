-- Notifications: the shop's own versions of the built-in email templates, every email the shop
-- sent or would have sent (its history and, without an SMTP server, its outbox mailbox), and
-- recipients' preferences.

-- A shop's override of a built-in template (or a template of its own) in one locale.
CREATE TABLE notification_templates (
    id            uuid PRIMARY KEY,
    template_key  text NOT NULL CHECK (template_key ~ '^[a-z][a-z0-9_]{0,63}$'),
    locale        text NOT NULL CHECK (locale ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 1000),
    body_text     text NOT NULL CHECK (length(body_text) BETWEEN 1 AND 100000),
    body_html     text CHECK (length(body_html) BETWEEN 1 AND 200000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    modified_by   text NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    UNIQUE (template_key, locale)
);

-- One email: rendered once when it was requested, then delivered by a background job.
CREATE TABLE notification_messages (
    id                   uuid PRIMARY KEY,
    template_key         text NOT NULL,
    locale               text NOT NULL,
    category             text NOT NULL CHECK (category IN ('transactional', 'marketing')),
    sender               text NOT NULL,
    recipient            text NOT NULL,
    subject              text NOT NULL,
    body_text            text NOT NULL,
    body_html            text,
    status               text NOT NULL CHECK (status IN ('queued', 'sent', 'stored', 'failed', 'suppressed')),
    attempts             integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error           text,
    provider_message_id  text,
    sent_at              timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    created_by           text NOT NULL,
    modified_at          timestamptz NOT NULL DEFAULT now(),
    modified_by          text NOT NULL,
    version              bigint NOT NULL DEFAULT 1,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- The mailbox lists newest first, optionally by status or recipient.
CREATE INDEX notification_messages_recent ON notification_messages (created_at DESC, id DESC);
CREATE INDEX notification_messages_by_status ON notification_messages (status, created_at DESC, id DESC);
CREATE INDEX notification_messages_by_recipient ON notification_messages (lower(recipient), created_at DESC, id DESC);

-- What a recipient agreed to receive, by lower-cased address.
CREATE TABLE notification_preferences (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL UNIQUE CHECK (email = lower(email) AND position('@' IN email) > 1),
    marketing_opt_out  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    modified_by        text NOT NULL,
    version            bigint NOT NULL DEFAULT 1
);
