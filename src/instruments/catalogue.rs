//! The instrument catalogue (spec §3, §3a): every instrument form is a data file under
//! `src/instruments/forms/`, embedded in the binary, read and checked once on first use.
//! A new instrument is a new file here and a line in `FORMS`; no rule elsewhere names one.
//! Each file records the sources (keys of `shared/instruments/reference.json`) it follows and
//! the instrument's terms of use; where those terms do not allow shipping the item text
//! (`text_shipped: false`), the items are entered by number from the practice's own copy.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::Severity;
use crate::measures::Colour;
use crate::vocab::Target;

/// The forms, in the order the catalogue lists them. PHQ-9 and GAD-7 come first: their
/// positions are `Instrument::PHQ9` and `Instrument::GAD7`.
const FORMS: &[(&str, &str)] = &[
    ("phq9", include_str!("forms/phq9.json")),
    ("gad7", include_str!("forms/gad7.json")),
    ("phq-a", include_str!("forms/phq-a.json")),
    ("pcl5", include_str!("forms/pcl5.json")),
    ("psc17", include_str!("forms/psc17.json")),
    ("smfq-c", include_str!("forms/smfq-c.json")),
    ("smfq-p", include_str!("forms/smfq-p.json")),
    ("scared-c", include_str!("forms/scared-c.json")),
    ("scared-p", include_str!("forms/scared-p.json")),
    ("phq2", include_str!("forms/phq2.json")),
    ("gad2", include_str!("forms/gad2.json")),
    ("auditc", include_str!("forms/auditc.json")),
];
const TARGET_DEFAULTS: &str = include_str!("targets.json");

/// One instrument form: what it asks, how it is scored and the rules that read its scores.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub id: String,
    /// Short label: "PHQ-9".
    pub label: String,
    pub name: String,
    /// `measure` (tracked over an episode) or `screen` (recorded for any practice patient).
    pub kind: String,
    /// `patient` or `caregiver` (a parent answering about the child).
    pub respondent: String,
    pub ages: Ages,
    /// Forms that share a scale are paired (child and parent): each keeps its own baseline.
    pub scale: String,
    /// Counted as this form by measures defined on it (the PHQ-A as the PHQ-9 in §8's DRR
    /// and CMS159 measures, for adolescents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub counts_as: Option<String>,
    /// The targets this form may be the primary scale of.
    pub targets: Vec<Target>,
    pub instructions: Option<String>,
    /// The answers every item shares, unless the item lists its own.
    pub options: Vec<AnswerOption>,
    pub items: Vec<Item>,
    pub reverse_scored: Vec<usize>,
    pub subscales: Vec<Subscale>,
    /// Severity bands covering every total from 0 to the maximum, lowest first.
    pub bands: Vec<Band>,
    pub rules: Rules,
    /// A positive answer to any of these is a positive suicide-risk screen (spec §3, §5).
    pub safety: Vec<SafetyItem>,
    /// The PHQ-9's optional, unscored functional question.
    pub difficulty: Option<Question>,
    pub codes: Codes,
    /// Whether the item texts are shipped (their terms allow it); else items show by number.
    pub text_shipped: bool,
    /// Which sources this entry follows (keys of `shared/instruments/reference.json`).
    pub source: String,
    /// The instrument's terms of use, as its sources state them.
    pub terms: String,
    /// Other languages, by code (`es`): the same items in the same order.
    pub translations: BTreeMap<String, Translation>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Ages {
    pub from: Option<u8>,
    pub to: Option<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub score: u8,
    pub label: String,
    /// The LOINC answer code, where LOINC has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub number: usize,
    /// `None` where the terms do not allow shipping the text.
    pub text: Option<String>,
    /// The item's LOINC code, where LOINC has one.
    pub code: Option<String>,
    /// Counted in the total (the PHQ-A's four supplemental questions are not).
    #[serde(default = "yes")]
    pub scored: bool,
    /// This item's own answers; empty means the form's.
    #[serde(default)]
    pub options: Vec<AnswerOption>,
    /// The registry's code for an item LOINC does not code (`psc17-1`), made at load.
    #[serde(skip)]
    #[ts(skip)]
    pub registry_code: String,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Subscale {
    pub id: String,
    pub label: String,
    pub items: Vec<usize>,
    pub cut_off: Option<u8>,
}

/// One severity band: totals from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: u8,
    pub to: u8,
    pub severity: Severity,
    pub label: String,
    /// The cell colour of a total in this band (spec §4 for the PHQ-9 and GAD-7).
    pub colour: Colour,
}

/// The thresholds spec §3a gives each instrument.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A baseline at or above this is elevated (the reports' remission needs one).
    pub elevated_baseline: Option<u8>,
    /// How improvement is judged; `None` for screens.
    pub improvement: Option<Improvement>,
    /// A latest score below this is remission; `None` where the form has no such line.
    pub remission_below: Option<u8>,
    /// Screens: a total at or above this is a positive screen.
    pub positive_screen: Option<u8>,
}

/// Improved when the latest score is at most `percent` % of the baseline (or below `or_below`),
/// or when it is at least `points` below the baseline. Exactly one of `percent`, `points`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Improvement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub or_below: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub points: Option<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct SafetyItem {
    pub item: usize,
    pub at_least: u8,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub code: String,
    pub text: String,
}

/// The panel's and the total's codes: LOINC's where LOINC has them, else the registry's own
/// code system (`registry`, exported under `fhir::BASE`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Codes {
    pub system: String,
    pub panel: String,
    pub panel_display: String,
    pub total: String,
    pub total_display: String,
}

/// The registry's own code system, for instruments, items and totals LOINC does not code.
pub const REGISTRY_CODES: &str = "https://cocm-registry.org/fhir/CodeSystem/instrument";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    pub instructions: String,
    /// The form's answer labels, in score order.
    pub options: Vec<String>,
    pub items: Vec<String>,
    pub difficulty: Option<String>,
    pub source: String,
    pub terms: String,
}

/// A target's default primary scale by age group (`targets.json`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct TargetDefault {
    pub target: Target,
    pub adult: String,
    pub adolescent: String,
    pub child: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetDefaults {
    #[allow(dead_code)]
    note: String,
    defaults: Vec<TargetDefault>,
}

pub(crate) struct Catalogue {
    pub forms: Vec<Form>,
    pub target_defaults: Vec<TargetDefault>,
    /// By form: counted as the PHQ-9 (itself, or `counts_as: phq9`), read once per assessment
    /// per episode per month by the reports.
    pub counts_as_phq9: Vec<bool>,
}

/// The catalogue, read and checked on first use. The tests check every entry
/// (`every_form_is_complete`), so a malformed file fails the build's tests, never a patient's form.
pub(crate) fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| load().unwrap_or_else(|e| panic!("the instrument catalogue is malformed: {e}")))
}

fn load() -> Result<Catalogue, String> {
    let mut forms = Vec::with_capacity(FORMS.len());
    for (id, text) in FORMS {
        let mut form: Form = serde_json::from_str(text).map_err(|e| format!("{id}.json: {e}"))?;
        for item in &mut form.items {
            item.registry_code = format!("{id}-{}", item.number);
        }
        if form.id != *id {
            return Err(format!("{id}.json names itself '{}'", form.id));
        }
        check(&form).map_err(|e| format!("{id}: {e}"))?;
        forms.push(form);
    }
    let defaults: TargetDefaults = serde_json::from_str(TARGET_DEFAULTS).map_err(|e| format!("targets.json: {e}"))?;
    let counts_as_phq9 = forms.iter().map(|f| f.id == "phq9" || f.counts_as.as_deref() == Some("phq9")).collect();
    let catalogue = Catalogue { forms, target_defaults: defaults.defaults, counts_as_phq9 };
    check_targets(&catalogue)?;
    Ok(catalogue)
}

/// LOINC codes are up to seven digits, a hyphen and a mod-10 check digit, e.g. 44249-1; answer
/// codes are `LA`, digits, a hyphen and one digit (their check digit follows another scheme,
/// so only their shape is checked).
pub fn is_loinc_code(code: &str) -> bool {
    let (answer, body) = match code.strip_prefix("LA") {
        Some(rest) => (true, rest),
        None => (false, code),
    };
    let Some((digits, check)) = body.split_once('-') else { return false };
    let digit = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digit(digits) || digits.len() > 7 || check.len() != 1 || !digit(check) {
        return false;
    }
    if answer {
        return true;
    }
    // LOINC's check digit: Luhn (mod 10) over the digits before the hyphen.
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let d2 = d * 2;
                d2 / 10 + d2 % 10
            } else {
                d
            }
        })
        .sum();
    check.parse::<u32>().ok() == Some((10 - sum % 10) % 10)
}

fn check(f: &Form) -> Result<(), String> {
    if f.label.trim().is_empty() || f.name.trim().is_empty() || f.source.trim().is_empty() || f.terms.trim().is_empty() {
        return Err("label, name, source and terms are required".into());
    }
    if !matches!(f.kind.as_str(), "measure" | "screen") {
        return Err(format!("kind '{}' is not measure or screen", f.kind));
    }
    if !matches!(f.respondent.as_str(), "patient" | "caregiver") {
        return Err(format!("respondent '{}' is not patient or caregiver", f.respondent));
    }
    if f.items.is_empty() {
        return Err("no items".into());
    }
    for (i, item) in f.items.iter().enumerate() {
        if item.number != i + 1 {
            return Err(format!("item {} is numbered {}", i + 1, item.number));
        }
        if f.text_shipped != item.text.as_deref().is_some_and(|t| !t.trim().is_empty()) {
            return Err(format!("item {}: its text must be given exactly when text_shipped", item.number));
        }
        let options = if item.options.is_empty() { &f.options } else { &item.options };
        if options.len() < 2 {
            return Err(format!("item {} has fewer than two answers", item.number));
        }
        let mut scores: Vec<u8> = options.iter().map(|o| o.score).collect();
        scores.sort_unstable();
        scores.dedup();
        if scores.len() != options.len() {
            return Err(format!("item {}: two answers share a score", item.number));
        }
        for code in item.code.iter().chain(options.iter().filter_map(|o| o.code.as_ref())) {
            if !is_loinc_code(code) {
                return Err(format!("item {}: '{code}' is not a LOINC code", item.number));
            }
        }
    }
    if f.codes.system == "http://loinc.org" {
        for code in [&f.codes.panel, &f.codes.total] {
            if !is_loinc_code(code) {
                return Err(format!("'{code}' is not a LOINC code"));
            }
        }
    } else if f.codes.system != "registry" || f.codes.panel.is_empty() || f.codes.total.is_empty() || f.codes.panel == f.codes.total {
        return Err("codes: system is http://loinc.org or registry, with a panel and a total".into());
    }
    let numbers = |list: &[usize]| list.iter().all(|n| (1..=f.items.len()).contains(n));
    if !numbers(&f.reverse_scored) || f.subscales.iter().any(|s| !numbers(&s.items) || s.items.is_empty()) {
        return Err("a reverse-scored or subscale item is not an item of the form".into());
    }
    if f.safety.iter().any(|s| !numbers(&[s.item])) {
        return Err("a safety item is not an item of the form".into());
    }
    // The bands cover 0 to the maximum total, without gaps or overlaps.
    let max = max_total(f);
    let mut next = 0u32;
    for b in &f.bands {
        if u32::from(b.from) != next || b.to < b.from || b.label.trim().is_empty() {
            return Err(format!("band {}–{} does not start at {next}", b.from, b.to));
        }
        next = u32::from(b.to) + 1;
    }
    if next != max + 1 {
        return Err(format!("the bands end at {} but the total runs to {max}", next.saturating_sub(1)));
    }
    check_rules(&f.kind, max, &f.rules)?;
    if f.counts_as.as_ref().is_some_and(|c| !FORMS.iter().any(|(id, _)| id == c)) {
        return Err("counts_as names no form of the catalogue".into());
    }
    if f.kind == "measure" && f.targets.is_empty() {
        return Err("a measure serves at least one target".into());
    }
    for (lang, t) in &f.translations {
        if t.items.len() != f.items.len() || t.options.len() != f.options.len() || t.source.is_empty() || t.terms.is_empty() {
            return Err(format!("translation {lang}: every item and answer, its source and terms"));
        }
        if t.difficulty.is_some() != f.difficulty.is_some() {
            return Err(format!("translation {lang}: the difficulty question"));
        }
    }
    Ok(())
}

/// The rules' own consistency, for a catalogue entry and for a practice's changed thresholds
/// alike (spec §3a): thresholds within the total, a measure with one improvement rule.
pub(crate) fn check_rules(kind: &str, max: u32, r: &Rules) -> Result<(), String> {
    let within = |v: Option<u8>| v.is_none_or(|v| u32::from(v) <= max);
    if !within(r.elevated_baseline) || !within(r.remission_below) || !within(r.positive_screen) {
        return Err("a threshold lies outside the total's range".into());
    }
    match (kind, &r.improvement) {
        ("measure", None) => return Err("a measure needs an improvement rule".into()),
        ("screen", Some(_)) => return Err("a screen has no improvement rule".into()),
        ("screen", None) if r.positive_screen.is_none() => return Err("a screen needs its positive line".into()),
        _ => {}
    }
    if let Some(i) = &r.improvement {
        let ok = match (i.percent, i.points) {
            (Some(p), None) => (1..=100).contains(&p),
            (None, Some(p)) => p >= 1 && u32::from(p) <= max && i.or_below.is_none(),
            _ => false,
        };
        if !ok {
            return Err("improvement is a percent (with or_below) or a number of points, not both".into());
        }
    }
    Ok(())
}

/// The highest total: each scored item's highest answer.
pub(crate) fn max_total(f: &Form) -> u32 {
    f.items
        .iter()
        .filter(|i| i.scored)
        .map(|i| {
            let options = if i.options.is_empty() { &f.options } else { &i.options };
            u32::from(options.iter().map(|o| o.score).max().unwrap_or(0))
        })
        .sum()
}

/// Every target has a default in each age group, naming a scale whose forms serve the target.
fn check_targets(c: &Catalogue) -> Result<(), String> {
    for target in Target::ALL {
        let d = c.target_defaults.iter().find(|d| d.target == *target).ok_or(format!("targets.json: no default for {target}"))?;
        for scale in [&d.adult, &d.adolescent, &d.child] {
            let forms: Vec<&Form> = c.forms.iter().filter(|f| &f.scale == scale).collect();
            if forms.is_empty() || forms.iter().any(|f| !f.targets.contains(target)) {
                return Err(format!("targets.json: {target}'s default '{scale}' is not a scale serving it"));
            }
        }
    }
    Ok(())
}
