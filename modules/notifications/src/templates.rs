//! Email templates: the built-in defaults shipped with Agora, the locale fallback chain and
//! rendering with minijinja.
//!
//! Rendering is strict: a variable the template uses but the caller did not give is an error
//! reported to the caller (a 422 at send time), never an empty string in a customer's inbox.
//! HTML bodies are auto-escaped, so a customer named `<script>` stays text.
//!
//! Rendering is bounded: each part gets a fixed amount of fuel (minijinja's instruction budget)
//! and a cap on its output, so a template saved by a merchant cannot hold a CPU or fill memory;
//! callers render on a blocking thread, never on a request's.
//!
//! One-time credentials (a password-reset link) are never given to a template: it renders an
//! opaque marker in their place, which must stand whole where a link belongs, and only then is
//! the marker replaced, by the real link in the copy sent to the recipient and by
//! [`REDACTED`] in every copy that is stored. So a template (which any holder of
//! `notifications.manage` can edit) cannot take a link apart or send it anywhere else.

use agora_kernel::FieldError;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::LazyLock;

/// Instructions one part of a template may run: the largest built-in template needs a few
/// hundred, an order with a thousand lines a few tens of thousands.
const FUEL_PER_PART: u64 = 200_000;

/// Bytes one rendered part may have.
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// What a one-time link shows as in every stored copy of an email (mailbox, export).
pub(crate) const REDACTED: &str = "[one-time link, sent only to the recipient]";

/// The locale every built-in template exists in, and the last resort of the fallback chain.
pub(crate) const FALLBACK_LOCALE: &str = "en";

/// One part of a template; its name is the field a validation problem points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Subject,
    BodyText,
    BodyHtml,
}

impl Part {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::BodyText => "body_text",
            Part::BodyHtml => "body_html",
        }
    }
}

/// A template's three sources, as stored or shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateSource {
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

impl TemplateSource {
    fn parts(&self) -> impl Iterator<Item = (Part, &str)> {
        [(Part::Subject, Some(self.subject.as_str())), (Part::BodyText, Some(self.body_text.as_str()))]
            .into_iter()
            .chain(std::iter::once((Part::BodyHtml, self.body_html.as_deref())))
            .filter_map(|(part, source)| source.map(|s| (part, s)))
    }
}

/// A rendered email, ready to record and send.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
}

/// A built-in template in one locale.
pub(crate) struct BuiltInLocale {
    pub locale: &'static str,
    pub subject: &'static str,
    pub body_text: &'static str,
    pub body_html: &'static str,
}

impl BuiltInLocale {
    pub(crate) fn source(&self) -> TemplateSource {
        TemplateSource {
            subject: self.subject.to_string(),
            body_text: self.body_text.to_string(),
            body_html: Some(self.body_html.to_string()),
        }
    }
}

/// A template Agora ships, with the variables callers give it (documented by a sample).
pub(crate) struct BuiltIn {
    pub key: &'static str,
    sample: &'static str,
    pub locales: &'static [BuiltInLocale],
}

impl BuiltIn {
    pub(crate) fn in_locale(&self, locale: &str) -> Option<&'static BuiltInLocale> {
        self.locales.iter().find(|l| l.locale == locale)
    }

    /// Sample values of every variable the template takes (used to validate a shop's own
    /// version of it and for test sends without variables).
    pub(crate) fn sample(&self) -> Value {
        // The samples are checked by a unit test; an unparsable one would only make validation
        // stricter, never crash a request.
        serde_json::from_str(self.sample).unwrap_or(Value::Object(Default::default()))
    }

    pub(crate) fn variables(&self) -> Vec<String> {
        match self.sample() {
            Value::Object(map) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

macro_rules! built_in_locale {
    ($key:literal, $locale:literal) => {
        BuiltInLocale {
            locale: $locale,
            subject: include_str!(concat!("../templates/", $key, "/", $locale, ".subject.txt")),
            body_text: include_str!(concat!("../templates/", $key, "/", $locale, ".body.txt")),
            body_html: include_str!(concat!("../templates/", $key, "/", $locale, ".body.html")),
        }
    };
}

macro_rules! built_in {
    ($key:literal) => {
        BuiltIn {
            key: $key,
            sample: include_str!(concat!("../templates/", $key, "/sample.json")),
            locales: &[built_in_locale!($key, "en"), built_in_locale!($key, "de")],
        }
    };
}

/// The variables of a built-in template that are one-time credentials; a shop's version must use
/// them whole (see the module's doc).
pub(crate) fn one_time_links(key: &str) -> &'static [&'static str] {
    match key {
        "password_reset" => &["reset_url"],
        "staff_invitation" => &["invitation_url"],
        "email_verification" => &["verification_url"],
        _ => &[],
    }
}

/// Every built-in template, in the order the admin lists them.
pub(crate) static BUILT_INS: &[BuiltIn] = &[
    built_in!("order_confirmation"),
    built_in!("shipping_update"),
    built_in!("password_reset"),
    built_in!("password_changed"),
    built_in!("email_verification"),
    built_in!("welcome"),
    built_in!("staff_invitation"),
    built_in!("low_stock"),
];

pub(crate) fn built_in(key: &str) -> Option<&'static BuiltIn> {
    BUILT_INS.iter().find(|b| b.key == key)
}

/// Template keys: a lowercase letter, then up to 63 lowercase letters, digits or `_`.
pub(crate) fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    (1..=64).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// A BCP 47-style tag in its usual spelling (`de`, `de-CH`, `zh-Hant-TW`); `_` is taken for `-`.
/// `None` when it is not a plausible tag.
pub(crate) fn canonical_locale(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut subtags = raw.split(['-', '_']);
    let language = subtags.next()?;
    if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut tag = language.to_ascii_lowercase();
    for subtag in subtags {
        if !(2..=8).contains(&subtag.len()) || !subtag.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        tag.push('-');
        match subtag.len() {
            2 if subtag.bytes().all(|b| b.is_ascii_alphabetic()) => tag.push_str(&subtag.to_ascii_uppercase()),
            4 if subtag.bytes().all(|b| b.is_ascii_alphabetic()) => {
                let lower = subtag.to_ascii_lowercase();
                let (first, rest) = lower.split_at(1);
                tag.push_str(&first.to_ascii_uppercase());
                tag.push_str(rest);
            }
            _ => tag.push_str(&subtag.to_ascii_lowercase()),
        }
    }
    (tag.len() <= 35).then_some(tag)
}

/// `de` for `de-CH`; `None` for a bare language.
pub(crate) fn base_language(locale: &str) -> Option<&str> {
    locale.split_once('-').map(|(language, _)| language)
}

/// Where a template came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The shop's own version.
    Shop,
    BuiltIn,
}

/// The places to look for `key` in `locale`, best first: the shop's version in the locale, then
/// in its base language, then the built-in in the locale, its base language and English. A key
/// Agora does not ship (a shop's own template) finally falls back to the shop's English version.
pub(crate) fn fallback_chain(key: &str, locale: &str) -> Vec<(Origin, String)> {
    let mut locales = vec![locale.to_string()];
    if let Some(base) = base_language(locale) {
        locales.push(base.to_string());
    }
    let mut chain: Vec<(Origin, String)> = locales.iter().map(|l| (Origin::Shop, l.clone())).collect();
    if built_in(key).is_some() {
        chain.extend(locales.iter().map(|l| (Origin::BuiltIn, l.clone())));
        chain.push((Origin::BuiltIn, FALLBACK_LOCALE.to_string()));
    } else {
        chain.push((Origin::Shop, FALLBACK_LOCALE.to_string()));
    }
    let mut unique: Vec<(Origin, String)> = Vec::with_capacity(chain.len());
    for step in chain {
        if !unique.contains(&step) {
            unique.push(step);
        }
    }
    unique
}

/// Names that templates may use without a caller giving them.
const GLOBALS: &[&str] =
    &["range", "dict", "namespace", "debug", "loop", "self", "super", "caller", "varargs", "kwargs"];

static ENGINE: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL_PER_PART));
    env.set_auto_escape_callback(
        |name| if name == Part::BodyHtml.name() { AutoEscape::Html } else { AutoEscape::None },
    );
    // Error messages go back to merchants; they need the line, not the source dump.
    env.set_debug(false);
    env
});

/// Template syntax errors, one per broken part.
pub(crate) fn syntax_errors(source: &TemplateSource) -> Vec<(Part, String)> {
    source
        .parts()
        .filter_map(|(part, text)| {
            ENGINE.template_from_named_str(part.name(), text).err().map(|e| (part, e.to_string()))
        })
        .collect()
}

/// Renders every part with `variables` (a JSON object). Each failure names its part: a syntax
/// error, a variable the template needs that was not given, or a value of the wrong shape.
pub(crate) fn render(source: &TemplateSource, variables: &Value) -> Result<Rendered, Vec<(Part, String)>> {
    let given: BTreeSet<&str> = match variables {
        Value::Object(map) => map.keys().map(String::as_str).collect(),
        _ => BTreeSet::new(),
    };
    let mut errors = Vec::new();
    let mut rendered: Vec<(Part, String)> = Vec::new();
    for (part, text) in source.parts() {
        let template = match ENGINE.template_from_named_str(part.name(), text) {
            Ok(template) => template,
            Err(e) => {
                errors.push((part, e.to_string()));
                continue;
            }
        };
        let missing: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|name| !given.contains(name.as_str()) && !GLOBALS.contains(&name.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !missing.is_empty() {
            let names = missing.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
            errors.push((part, format!("uses {names}, which the variables do not give")));
            continue;
        }
        let mut out = Bounded(Vec::new());
        match template.render_captured_to(variables, &mut out) {
            Ok(_) => rendered.push((part, String::from_utf8_lossy(&out.0).into_owned())),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => errors.push((
                part,
                "takes too long to render: loops over more than a few thousand items are not allowed".into(),
            )),
            Err(_) if out.0.len() > MAX_OUTPUT_BYTES => {
                errors.push((part, format!("renders more than {} KiB", MAX_OUTPUT_BYTES / 1024)))
            }
            Err(e) => errors.push((part, e.to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let take = |wanted: Part| rendered.iter().find(|(part, _)| *part == wanted).map(|(_, text)| text.clone());
    Ok(Rendered {
        subject: one_line(&take(Part::Subject).unwrap_or_default()),
        body_text: take(Part::BodyText).unwrap_or_default(),
        body_html: take(Part::BodyHtml),
    })
}

/// A writer that refuses to grow past [`MAX_OUTPUT_BYTES`] (it keeps one byte more, so the
/// caller can tell why rendering stopped).
struct Bounded(Vec<u8>);

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.0.resize(MAX_OUTPUT_BYTES + 1, 0);
            return Err(std::io::Error::other("output limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An email rendered for its two audiences: the copy to store (one-time links redacted) and,
/// when it carries such links, the copy for the recipient alone.
#[derive(Debug, Clone)]
pub(crate) struct TwoCopies {
    pub stored: Rendered,
    pub for_recipient: Option<Rendered>,
}

/// Renders `source` with `variables`, the ones named in `secrets` as one-time links (see the
/// module's doc): each must stand whole, as `href="…"` in HTML or as a word of its own in text,
/// and never in the subject.
pub(crate) fn render_with_secrets(
    source: &TemplateSource,
    variables: &Value,
    secrets: &[String],
) -> Result<TwoCopies, Vec<(Part, String)>> {
    let Value::Object(map) = variables else { return render(source, variables).map(stored_only) };
    let secrets: Vec<(&String, String, String)> = secrets
        .iter()
        .filter_map(|name| match map.get(name) {
            Some(Value::String(value)) => Some((name, marker(), value.clone())),
            _ => None,
        })
        .collect();
    if secrets.is_empty() {
        return render(source, variables).map(stored_only);
    }
    let mut masked = map.clone();
    for (name, marker, _) in &secrets {
        masked.insert((*name).clone(), Value::String(marker.clone()));
    }
    let rendered = render(source, &Value::Object(masked))?;
    let problems: Vec<(Part, String)> =
        secrets.iter().flat_map(|(name, marker, _)| misplaced(&rendered, name, marker)).collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    let fill = |text: &str, html: bool| {
        secrets.iter().fold(text.to_string(), |text, (_, marker, value)| {
            text.replace(marker.as_str(), &if html { escape_html(value) } else { value.clone() })
        })
    };
    let redact = |text: &str| {
        secrets.iter().fold(text.to_string(), |text, (_, marker, _)| text.replace(marker.as_str(), REDACTED))
    };
    Ok(TwoCopies {
        stored: Rendered {
            subject: rendered.subject.clone(),
            body_text: redact(&rendered.body_text),
            body_html: rendered.body_html.as_deref().map(redact),
        },
        for_recipient: Some(Rendered {
            subject: rendered.subject.clone(),
            body_text: fill(&rendered.body_text, false),
            body_html: rendered.body_html.as_deref().map(|html| fill(html, true)),
        }),
    })
}

fn stored_only(rendered: Rendered) -> TwoCopies {
    TwoCopies { stored: rendered, for_recipient: None }
}

/// A stand-in no template can predict (so no variable's value can imitate one).
fn marker() -> String {
    format!("agoraonetimelink{}", uuid::Uuid::now_v7().simple())
}

/// Where `marker` (standing for the one-time link `name`) appears other than whole.
fn misplaced(rendered: &Rendered, name: &str, marker: &str) -> Vec<(Part, String)> {
    let rule = format!(
        "`{name}` is a one-time link: use it whole, as href=\"{{{{ {name} }}}}\" in HTML and on its own in text, never in the subject"
    );
    let mut problems = Vec::new();
    if rendered.subject.contains(marker) {
        problems.push((Part::Subject, rule.clone()));
    }
    let stands_alone = |text: &str| {
        text.match_indices(marker).all(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + marker.len()..].chars().next();
            before.is_none_or(char::is_whitespace) && after.is_none_or(char::is_whitespace)
        })
    };
    if !stands_alone(&rendered.body_text) {
        problems.push((Part::BodyText, rule.clone()));
    }
    if let Some(html) = &rendered.body_html {
        let as_href = format!("href=\"{marker}\"");
        let elsewhere = html.replace(&as_href, "").contains(marker);
        // `ping` would report the link's address to another server when it is followed.
        if elsewhere || (html.contains(marker) && html.to_ascii_lowercase().contains("ping=")) {
            problems.push((Part::BodyHtml, rule));
        }
    }
    problems
}

fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// A subject is one header line: line breaks in a template or a variable become spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a shop's version of a template before it is saved: sizes, syntax, and for a built-in
/// key that it renders with the variables Agora gives that template (so a typo in a variable
/// name is caught now, not when a customer's email fails).
pub(crate) fn validate_shop_template(key: &str, source: &TemplateSource) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let limits = [(Part::Subject, 1000), (Part::BodyText, 100_000), (Part::BodyHtml, 200_000)];
    for (part, text) in source.parts() {
        let max = limits.iter().find(|(p, _)| *p == part).map_or(0, |(_, max)| *max);
        if text.trim().is_empty() {
            errors.push(FieldError::new(part.name(), "must not be empty"));
        } else if text.chars().count() > max {
            errors.push(FieldError::new(part.name(), format!("at most {max} characters")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let problems = match built_in(key) {
        Some(known) => {
            let secrets: Vec<String> = one_time_links(key).iter().map(|s| s.to_string()).collect();
            render_with_secrets(source, &known.sample(), &secrets).err().unwrap_or_default()
        }
        None => syntax_errors(source),
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.into_iter().map(|(part, message)| FieldError::new(part.name(), message)).collect())
    }
}

/// Renders a shop's draft of a template as a recipient would get it, with sample values, after
/// the checks [`validate_shop_template`] makes before a save (so a draft that previews is one
/// that saves). A one-time link shows its sample, an example address, never a real token; a
/// template of the shop's own shows each variable it uses as `[name]`.
pub(crate) fn preview(key: &str, source: &TemplateSource) -> Result<Rendered, Vec<FieldError>> {
    validate_shop_template(key, source)?;
    let rendered = match built_in(key) {
        Some(known) => {
            let secrets: Vec<String> = one_time_links(key).iter().map(|s| s.to_string()).collect();
            render_with_secrets(source, &known.sample(), &secrets).map(|two| two.for_recipient.unwrap_or(two.stored))
        }
        None => render(source, &placeholders(source)),
    };
    rendered
        .map_err(|problems| problems.into_iter().map(|(part, message)| FieldError::new(part.name(), message)).collect())
}

/// `{"name": "[name]"}` for every variable the template uses.
fn placeholders(source: &TemplateSource) -> Value {
    let names: BTreeSet<String> = source
        .parts()
        .filter_map(|(part, text)| ENGINE.template_from_named_str(part.name(), text).ok())
        .flat_map(|template| template.undeclared_variables(false))
        .filter(|name| !GLOBALS.contains(&name.as_str()))
        .collect();
    Value::Object(names.into_iter().map(|name| (name.clone(), Value::String(format!("[{name}]")))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_preview_shows_the_recipients_copy_with_a_harmless_one_time_link() {
        let source = TemplateSource {
            subject: "Reset for {{ customer_name }}".into(),
            body_text: "Open {{ reset_url }} soon".into(),
            body_html: Some("<a href=\"{{ reset_url }}\">reset</a>".into()),
        };
        let shown = preview("password_reset", &source).expect("previews");
        assert_eq!(shown.subject, "Reset for Alex Example");
        assert!(
            shown.body_text.contains("https://shop.example.com/reset-password?token=sample"),
            "{}",
            shown.body_text
        );
        assert!(!shown.body_text.contains(REDACTED));

        let broken = TemplateSource { body_text: "Open{{ reset_url }}".into(), ..source.clone() };
        let errors = preview("password_reset", &broken).expect_err("a glued link is refused");
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["body_text"]);

        let own = TemplateSource { subject: "Hi {{ buyer }}".into(), body_text: "{{ buyer }}".into(), body_html: None };
        assert_eq!(preview("spring_sale", &own).expect("previews").subject, "Hi [buyer]");
    }

    #[test]
    fn every_built_in_renders_its_sample_in_every_locale() {
        for template in BUILT_INS {
            assert!(matches!(serde_json::from_str::<Value>(template.sample), Ok(Value::Object(_))), "{}", template.key);
            for locale in template.locales {
                let rendered = render(&locale.source(), &template.sample())
                    .unwrap_or_else(|e| panic!("{} {}: {e:?}", template.key, locale.locale));
                assert!(!rendered.subject.is_empty() && !rendered.subject.contains('\n'));
                assert!(rendered.body_text.contains("Alex Example"), "{} {}", template.key, locale.locale);
            }
            assert!(template.in_locale(FALLBACK_LOCALE).is_some());
        }
    }

    #[test]
    fn missing_variables_are_named_and_html_is_escaped() {
        let source = TemplateSource {
            subject: "Hi {{ name }}".into(),
            body_text: "{{ name }} & {{ greeting }}".into(),
            body_html: Some("<p>{{ name }}</p>".into()),
        };
        let errors = render(&source, &json!({"name": "Ann"})).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, Part::BodyText);
        assert!(errors[0].1.contains("`greeting`"), "{}", errors[0].1);
        let rendered = render(&source, &json!({"name": "<b>Ann</b>", "greeting": "x"})).unwrap();
        assert_eq!(rendered.body_text, "<b>Ann</b> & x");
        assert_eq!(rendered.body_html.as_deref(), Some("<p>&lt;b&gt;Ann&lt;&#x2f;b&gt;</p>"));
    }

    #[test]
    fn shop_templates_are_checked_against_the_built_in_variables() {
        let ok = TemplateSource {
            subject: "Willkommen, {{ customer_name }}".into(),
            body_text: "Hallo".into(),
            body_html: None,
        };
        assert!(validate_shop_template("welcome", &ok).is_ok());
        let typo = TemplateSource { subject: "Hi {{ customer_nmae }}".into(), ..ok.clone() };
        let errors = validate_shop_template("welcome", &typo).unwrap_err();
        assert_eq!(errors[0].field, "subject");
        let broken = TemplateSource { body_html: Some("<p>{{ oops </p>".into()), ..ok.clone() };
        assert_eq!(validate_shop_template("welcome", &broken).unwrap_err()[0].field, "body_html");
        // A shop's own template takes any variables; only its syntax is checked.
        assert!(validate_shop_template("spring_sale", &typo).is_ok());
        assert_eq!(validate_shop_template("spring_sale", &broken).unwrap_err()[0].field, "body_html");
    }

    #[test]
    fn one_time_links_reach_only_the_recipients_copy_and_must_stand_whole() {
        let source = TemplateSource {
            subject: "Reset".into(),
            body_text: "Go:\n{{ url }}\n".into(),
            body_html: Some("<a href=\"{{ url }}\">go</a>".into()),
        };
        let link = "https://s.test/r?token=abc&x=1";
        let copies = render_with_secrets(&source, &json!({ "url": link }), &["url".into()]).unwrap();
        // minijinja drops a template's final newline.
        assert_eq!(copies.stored.body_text, format!("Go:\n{REDACTED}"));
        assert!(!copies.stored.body_html.as_deref().unwrap().contains("token="));
        let sent = copies.for_recipient.unwrap();
        assert_eq!(sent.body_text, format!("Go:\n{link}"));
        assert_eq!(sent.body_html.as_deref(), Some("<a href=\"https://s.test/r?token=abc&amp;x=1\">go</a>"));
        for (leaky, part) in [
            (TemplateSource { body_text: "https://evil.test/?{{ url }}".into(), ..source.clone() }, Part::BodyText),
            (TemplateSource { subject: "{{ url }}".into(), ..source.clone() }, Part::Subject),
            (
                TemplateSource { body_html: Some("<img src=\"https://e.test/{{ url }}\">".into()), ..source.clone() },
                Part::BodyHtml,
            ),
        ] {
            let problems = render_with_secrets(&leaky, &json!({ "url": link }), &["url".into()]).unwrap_err();
            assert_eq!(problems[0].0, part, "{problems:?}");
        }
        // Without secrets nothing changes, and nothing is kept for the recipient alone.
        assert!(render_with_secrets(&source, &json!({ "url": link }), &[]).unwrap().for_recipient.is_none());
        for template in BUILT_INS {
            let secrets: Vec<String> = one_time_links(template.key).iter().map(|s| s.to_string()).collect();
            for locale in template.locales {
                render_with_secrets(&locale.source(), &template.sample(), &secrets)
                    .unwrap_or_else(|e| panic!("{} {}: {e:?}", template.key, locale.locale));
            }
        }
    }

    #[test]
    fn rendering_is_bounded_in_time_and_size() {
        let burn = TemplateSource {
            subject: "x".into(),
            body_text: "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}".into(),
            body_html: None,
        };
        let problems = render(&burn, &json!({})).unwrap_err();
        assert!(problems[0].1.contains("too long"), "{problems:?}");
        let flood = TemplateSource {
            body_text: format!("{{% for a in range(20000) %}}{}{{% endfor %}}", "x".repeat(100)),
            ..burn.clone()
        };
        let problems = render(&flood, &json!({})).unwrap_err();
        assert!(problems[0].1.contains("KiB"), "{problems:?}");
    }

    #[test]
    fn locales_and_fallbacks() {
        assert_eq!(canonical_locale("de_ch").as_deref(), Some("de-CH"));
        assert_eq!(canonical_locale("zh-hant-tw").as_deref(), Some("zh-Hant-TW"));
        assert_eq!(canonical_locale("en").as_deref(), Some("en"));
        for bad in ["", "e", "english", "de-", "de-C", "d3"] {
            assert!(canonical_locale(bad).is_none(), "{bad}");
        }
        let chain = fallback_chain("welcome", "de-CH");
        let expected = [
            (Origin::Shop, "de-CH"),
            (Origin::Shop, "de"),
            (Origin::BuiltIn, "de-CH"),
            (Origin::BuiltIn, "de"),
            (Origin::BuiltIn, "en"),
        ];
        assert_eq!(chain, expected.map(|(o, l)| (o, l.to_string())));
        assert_eq!(fallback_chain("spring_sale", "en"), vec![(Origin::Shop, "en".to_string())]);
        assert!(valid_key("order_confirmation") && !valid_key("Order") && !valid_key("") && !valid_key("a-b"));
    }
}
