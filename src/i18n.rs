//! Every user-facing string, from Fluent files under `locales/`, embedded in
//! the binary at build time so a deployment is one file.
//!
//! zh-CN is the default and the reference: the test
//! `every_locale_has_every_message_and_placeholder_of_zh_cn` fails when
//! another locale lacks a message or a placeholder that zh-CN has.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// A language the bot speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    /// Traditional Chinese.
    #[serde(rename = "zh-TW")]
    ZhTw,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Every language, default first.
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhTw, Lang::En];

    /// The BCP-47 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhTw => "zh-TW",
            Lang::En => "en",
        }
    }

    /// Parses an exact code (`zh-CN`, `zh-TW`, `en`), case-insensitively.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" | "zh-hans" => Some(Lang::ZhCn),
            "zh-tw" | "zh-hant" => Some(Lang::ZhTw),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best language for a Telegram `language_code` (`zh-hans`, `zh-hk`,
    /// `en-US`, …); `None` when we speak nothing close to it.
    pub fn from_telegram(code: Option<&str>) -> Option<Lang> {
        let c = code?.trim().to_ascii_lowercase();
        if c.starts_with("zh") {
            if ["tw", "hk", "mo", "hant"].iter().any(|t| c.contains(t)) {
                Some(Lang::ZhTw)
            } else {
                Some(Lang::ZhCn)
            }
        } else if c.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::ZhCn => 0,
            Lang::ZhTw => 1,
            Lang::En => 2,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

macro_rules! locale_files {
    ($lang:literal) => {
        [
            include_str!(concat!("../locales/", $lang, "/main.ftl")),
            include_str!(concat!("../locales/", $lang, "/routing.ftl")),
            include_str!(concat!("../locales/", $lang, "/resident.ftl")),
            include_str!(concat!("../locales/", $lang, "/mediator.ftl")),
            include_str!(concat!("../locales/", $lang, "/notify.ftl")),
            include_str!(concat!("../locales/", $lang, "/bot.ftl")),
            include_str!(concat!("../locales/", $lang, "/oversight.ftl")),
            include_str!(concat!("../locales/", $lang, "/terminal.ftl")),
        ]
    };
}

/// The Fluent sources of each language, in [`Lang::ALL`] order.
pub fn sources(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::ZhCn => locale_files!("zh-CN").to_vec(),
        Lang::ZhTw => locale_files!("zh-TW").to_vec(),
        Lang::En => locale_files!("en").to_vec(),
    }
}

/// Formats messages in every language.
pub struct Localizer {
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Localizer")
    }
}

/// An argument list for [`Localizer::format`].
pub type Args<'a> = [(&'a str, FluentValue<'a>)];

impl Localizer {
    /// The process-wide localizer, built on first use from the embedded files.
    pub fn global() -> &'static Localizer {
        static L: OnceLock<Localizer> = OnceLock::new();
        L.get_or_init(Localizer::build)
    }

    fn build() -> Localizer {
        let bundles = Lang::ALL
            .iter()
            .map(|&lang| {
                let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Unicode isolation marks would show up as stray characters in
                // Telegram clients and break copying case numbers.
                bundle.set_use_isolating(false);
                for src in sources(lang) {
                    match FluentResource::try_new(src.to_owned()) {
                        Ok(res) => {
                            if let Err(errs) = bundle.add_resource(res) {
                                tracing::error!(
                                    lang = lang.code(),
                                    ?errs,
                                    "duplicate Fluent messages"
                                );
                            }
                        }
                        Err((res, errs)) => {
                            tracing::error!(lang = lang.code(), ?errs, "Fluent syntax errors");
                            let _ = bundle.add_resource(res);
                        }
                    }
                }
                bundle
            })
            .collect();
        Localizer { bundles }
    }

    /// Formats message `id` in `lang`; a missing message falls back to
    /// zh-CN, then to the id itself (and is logged), so a gap never crashes.
    pub fn format(&self, lang: Lang, id: &str, args: &Args<'_>) -> String {
        let fargs = if args.is_empty() {
            None
        } else {
            let mut a = FluentArgs::new();
            for (k, v) in args {
                a.set(*k, v.clone());
            }
            Some(a)
        };
        for l in [lang, Lang::ZhCn] {
            let bundle = &self.bundles[l.index()];
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = vec![];
                let s = bundle.format_pattern(pattern, fargs.as_ref(), &mut errors);
                if !errors.is_empty() {
                    tracing::warn!(id, lang = l.code(), ?errors, "Fluent formatting errors");
                }
                return s.into_owned();
            }
        }
        tracing::warn!(id, lang = lang.code(), "missing Fluent message");
        id.to_owned()
    }

    /// Whether message `id` exists in zh-CN.
    pub fn has(&self, id: &str) -> bool {
        self.bundles[Lang::ZhCn.index()].has_message(id)
    }
}

/// Shorthand for `Localizer::global().format(lang, id, args)`.
pub fn t(lang: Lang, id: &str, args: &Args<'_>) -> String {
    Localizer::global().format(lang, id, args)
}

/// Shorthand for a message without arguments.
pub fn t0(lang: Lang, id: &str) -> String {
    Localizer::global().format(lang, id, &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;
    use std::collections::{BTreeMap, BTreeSet};

    fn collect_vars(p: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for el in &p.elements {
            if let ast::PatternElement::Placeable { expression } = el {
                collect_expr(expression, out);
            }
        }
    }

    fn collect_expr(e: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(i) => collect_inline(i, out),
            ast::Expression::Select { selector, variants } => {
                collect_inline(selector, out);
                for v in variants {
                    collect_vars(&v.value, out);
                }
            }
        }
    }

    fn collect_inline(i: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_string());
            }
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for a in &arguments.positional {
                    collect_inline(a, out);
                }
            }
            ast::InlineExpression::Placeable { expression } => collect_expr(expression, out),
            _ => {}
        }
    }

    fn messages(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let mut out = BTreeMap::new();
        for src in sources(lang) {
            let res = fluent_syntax::parser::parse(src)
                .unwrap_or_else(|(_, e)| panic!("{lang}: Fluent syntax errors: {e:?}"));
            for entry in res.body {
                if let ast::Entry::Message(m) = entry {
                    let mut vars = BTreeSet::new();
                    if let Some(v) = &m.value {
                        collect_vars(v, &mut vars);
                    }
                    assert!(
                        out.insert(m.id.name.to_string(), vars).is_none(),
                        "{lang}: message {} defined twice",
                        m.id.name
                    );
                }
            }
        }
        out
    }

    #[test]
    fn every_locale_has_every_message_and_placeholder_of_zh_cn() {
        let reference = messages(Lang::ZhCn);
        assert!(!reference.is_empty());
        for lang in [Lang::ZhTw, Lang::En] {
            let other = messages(lang);
            for (id, vars) in &reference {
                let Some(ovars) = other.get(id) else {
                    panic!("{lang} lacks message {id}");
                };
                assert_eq!(
                    vars, ovars,
                    "{lang}: placeholders of {id} differ from zh-CN"
                );
            }
            for id in other.keys() {
                assert!(
                    reference.contains_key(id),
                    "{lang} has {id}, which zh-CN lacks"
                );
            }
        }
    }

    #[test]
    fn telegram_language_codes_map_to_our_languages() {
        assert_eq!(Lang::from_telegram(Some("zh-hans")), Some(Lang::ZhCn));
        assert_eq!(Lang::from_telegram(Some("zh-hk")), Some(Lang::ZhTw));
        assert_eq!(Lang::from_telegram(Some("en-US")), Some(Lang::En));
        assert_eq!(Lang::from_telegram(Some("ru")), None);
        assert_eq!(Lang::from_telegram(None), None);
    }

    #[test]
    fn messages_have_no_isolation_marks_around_arguments() {
        let s = t(
            Lang::ZhCn,
            "case-number-line",
            &[("number", "620722-2026-000001".into())],
        );
        assert!(s.contains("620722-2026-000001"));
        assert!(!s.contains('\u{2068}'));
    }
}
