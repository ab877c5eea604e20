//! Configuration, per module: each module owns the settings it needs as a struct, and reads them
//! itself from one [`Source`] (environment variables, then the TOML file), so the binary's
//! `Config` only composes them and no flat list of every setting is kept by hand.
//!
//! A setting is named by its environment variable (`AGORA_WEBHOOKS_RETRY_BASE_MS`). In the TOML
//! file the same setting is the variable's name in lower case without `AGORA_`
//! (`webhooks_retry_base_ms = 1000`), or, inside the module's section, without its prefix:
//!
//! ```toml
//! [webhooks]
//! retry_base_ms = 1000
//! ```
//!
//! A module declares its settings by implementing [`Settings`]: the keys it reads (so a file with
//! an unknown key is refused) and `load`, which names the bad setting in its error.
//!
//! ```ignore
//! impl agora_kernel::settings::Settings for HelloSettings {
//!     const KEYS: &'static [&'static str] = &["hello_greeting"];
//!     fn load(src: &Source<'_>) -> Result<Self, SettingsError> {
//!         Ok(Self { greeting: src.raw("AGORA_HELLO_GREETING").map_or("hello".into(), |(v, _)| v) })
//!     }
//! }
//! ```

use std::str::FromStr;

/// A setting that cannot be used, naming it; or a configuration file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration file {path}: {cause}")]
    File { path: String, cause: String },
    #[error("invalid setting {name}: {message} (got {value:?})")]
    Invalid { name: String, value: String, message: String },
}

impl SettingsError {
    /// An invalid value of the setting `name`; `value` is shown (pass `"<hidden>"` for secrets).
    pub fn invalid(name: impl Into<String>, value: impl Into<String>, message: impl Into<String>) -> Self {
        SettingsError::Invalid { name: name.into(), value: value.into(), message: message.into() }
    }
}

/// A module's settings, read from the configuration.
pub trait Settings: Sized {
    /// The file keys it reads (its variables' names, lower case, without `AGORA_`).
    const KEYS: &'static [&'static str];

    fn load(src: &Source<'_>) -> Result<Self, SettingsError>;
}

/// Where values come from, in increasing priority after the file: the environment.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process's environment; an empty variable counts as unset.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The environment and the configuration file, as every module reads them.
pub struct Source<'a> {
    /// `key = value` pairs; a module's `[section]` is already flattened to `section_key`.
    file: toml::Table,
    /// How each flattened key was written in the file (`webhooks.retry_base_ms`), for errors.
    spelled: std::collections::HashMap<String, String>,
    env: &'a dyn Env,
}

impl<'a> Source<'a> {
    /// A source over `env` and the parsed file `file`, whose sections (`[webhooks]`) are
    /// flattened into their prefixed keys (`webhooks_retry_base_ms`). A key given both ways is
    /// refused.
    pub fn new(file: toml::Table, env: &'a dyn Env) -> Result<Self, String> {
        let mut flat = toml::Table::new();
        let mut spelled = std::collections::HashMap::new();
        for (key, value) in file {
            match value {
                toml::Value::Table(section) => {
                    for (inner, value) in section {
                        let name = format!("{key}_{inner}");
                        if flat.contains_key(&name) {
                            return Err(format!("`{key}.{inner}` is given twice"));
                        }
                        spelled.insert(name.clone(), format!("{key}.{inner}"));
                        flat.insert(name, value);
                    }
                }
                value => {
                    if flat.contains_key(&key) {
                        return Err(format!("`{key}` is given twice"));
                    }
                    flat.insert(key, value);
                }
            }
        }
        Ok(Self { file: flat, spelled, env })
    }

    /// The file's keys (flattened), to refuse those no module reads.
    pub fn file_keys(&self) -> impl Iterator<Item = &str> {
        self.file.keys().map(String::as_str)
    }

    /// How `key` was written in the file.
    pub fn spelled<'k>(&'k self, key: &'k str) -> &'k str {
        self.spelled.get(key).map_or(key, String::as_str)
    }

    /// A setting's raw value and the name to blame for it: the environment first, then the file.
    pub fn raw(&self, env_name: &str) -> Option<(String, String)> {
        if let Some(v) = self.env.get(env_name) {
            return Some((v, env_name.to_string()));
        }
        let key = env_name.trim_start_matches("AGORA_").to_ascii_lowercase();
        self.file.get(&key).map(|v| {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (text, format!("{} (config file)", self.spelled(&key)))
        })
    }

    /// A value parsed as `T` and checked, or `default` when unset.
    pub fn parsed<T: FromStr>(
        &self,
        env_name: &str,
        default: T,
        check: impl Fn(&T) -> Result<(), String>,
    ) -> Result<T, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        let Some((raw, name)) = self.raw(env_name) else { return Ok(default) };
        let value = raw.trim().parse::<T>().map_err(|e| SettingsError::Invalid {
            name: name.clone(),
            value: raw.clone(),
            message: e.to_string(),
        })?;
        check(&value).map_err(|message| SettingsError::Invalid { name, value: raw, message })?;
        Ok(value)
    }
}

/// A check that a number is within `min..=max`.
pub fn range<T: PartialOrd + std::fmt::Display + Copy>(min: T, max: T) -> impl Fn(&T) -> Result<(), String> {
    move |v| if *v >= min && *v <= max { Ok(()) } else { Err(format!("must be between {min} and {max}")) }
}

/// A check that accepts anything (for booleans and free text).
pub fn any<T>(_: &T) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_section_is_the_prefixed_key_and_errors_name_it_as_written() {
        let env: HashMap<String, String> = HashMap::new();
        let file: toml::Table = toml::from_str("bind = \"x\"\n[webhooks]\nretry_base_ms = 0\n").unwrap();
        let src = Source::new(file, &env).unwrap();
        let mut keys: Vec<&str> = src.file_keys().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["bind", "webhooks_retry_base_ms"]);
        let err = src.parsed("AGORA_WEBHOOKS_RETRY_BASE_MS", 1u64, range(1, 10)).unwrap_err().to_string();
        assert!(err.contains("webhooks.retry_base_ms (config file)"), "{err}");
        let twice: toml::Table = toml::from_str("webhooks_retry_base_ms = 1\n[webhooks]\nretry_base_ms = 2\n").unwrap();
        assert!(Source::new(twice, &env).is_err());
        let env: HashMap<String, String> = [("AGORA_BIND".to_string(), "y".to_string())].into();
        let file: toml::Table = toml::from_str("bind = \"x\"\n").unwrap();
        assert_eq!(Source::new(file, &env).unwrap().raw("AGORA_BIND"), Some(("y".into(), "AGORA_BIND".into())));
    }
}
