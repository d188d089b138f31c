//! Instruments (spec §3, §3a): the catalogue's forms (`catalogue.rs`, one data file each under
//! `forms/`), and scoring, severity bands and validation for any of them. Totals and bands are
//! always derived here from the item answers, never typed in.

mod catalogue;
pub mod thresholds;

use serde::Serialize;

use catalogue::catalogue;
pub use catalogue::{
    Ages, AnswerOption, Band, Codes, Form, Improvement, Item, Question, REGISTRY_CODES, Rules, SafetyItem, Subscale, TargetDefault,
    Translation, is_loinc_code,
};

use crate::measures::Colour;
use crate::vocab::{Target, string_enum};
use crate::{Error, Result};

/// One form of the catalogue: a small copyable handle that reads and writes the form's id
/// (`phq9`, `pcl5`, `smfq-p`) in storage, JSON and the CLI.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ts_rs::TS)]
#[ts(type = "string")]
pub struct Instrument(u8);

string_enum!(Severity {
    Minimal => "minimal",
    Mild => "mild",
    Moderate => "moderate",
    ModeratelySevere => "moderately-severe",
    Severe => "severe",
    // Cut-off scales and screens: below or at/above the line.
    Negative => "negative",
    Positive => "positive",
});

string_enum!(
    /// The PHQ-9's optional, unscored functional question (LOINC 69722-7).
    Difficulty {
        NotDifficult => "not-difficult-at-all",
        Somewhat => "somewhat-difficult",
        Very => "very-difficult",
        Extremely => "extremely-difficult",
    }
);

impl Instrument {
    /// The PHQ-9: its own rules remain where a measure is defined on it (the reports' DRR-E
    /// and CMS159, spec §8). The catalogue lists it first.
    pub const PHQ9: Instrument = Instrument(0);
    /// The GAD-7, listed second.
    pub const GAD7: Instrument = Instrument(1);

    pub fn form(self) -> &'static Form {
        &catalogue().forms[usize::from(self.0)]
    }

    /// The form with this id, if the catalogue has one.
    pub fn by_id(id: &str) -> Option<Instrument> {
        catalogue().forms.iter().position(|f| f.id == id).map(|i| Instrument(i as u8))
    }

    /// Reads a form's id; anything else is a validation error on `field` listing the ids.
    pub fn parse(field: &str, s: &str) -> Result<Instrument> {
        Instrument::by_id(s.trim()).ok_or_else(|| {
            let ids: Vec<&str> = Instrument::all().map(Instrument::as_str).collect();
            Error::validation(field, format!("must be one of {} (got '{}')", ids.join(", "), s.trim()))
        })
    }

    pub fn as_str(self) -> &'static str {
        &self.form().id
    }

    pub fn label(self) -> &'static str {
        &self.form().label
    }

    pub fn items(self) -> &'static [Item] {
        &self.form().items
    }

    /// The answers item `index` (from 0) offers.
    pub fn options(self, index: usize) -> &'static [AnswerOption] {
        let f = self.form();
        match f.items.get(index) {
            Some(item) if !item.options.is_empty() => &item.options,
            _ => &f.options,
        }
    }

    pub fn max_total(self) -> u8 {
        catalogue::max_total(self.form()) as u8
    }

    /// The panel's and total's codes (LOINC, or the registry's own system).
    pub fn codes(self) -> &'static Codes {
        &self.form().codes
    }

    /// The code system of the panel and total: LOINC's, or the registry's own.
    pub fn code_system(self) -> &'static str {
        match self.codes().system.as_str() {
            "registry" => REGISTRY_CODES,
            system => system,
        }
    }

    /// Item `index`'s (from 0) code system and code: LOINC's where it has one, else the registry's.
    pub fn item_coding(self, index: usize) -> (&'static str, &'static str) {
        let item = &self.items()[index];
        match &item.code {
            Some(code) => (crate::loinc::SYSTEM, code),
            None => (REGISTRY_CODES, &item.registry_code),
        }
    }

    /// The index of the item coded `code`, in either system.
    pub fn item_with_code(self, code: &str) -> Option<usize> {
        self.items().iter().position(|i| i.code.as_deref() == Some(code) || i.registry_code == code)
    }

    /// The answer option item `index` gives for `score`.
    pub fn option(self, index: usize, score: u8) -> Option<&'static AnswerOption> {
        self.options(index).iter().find(|o| o.score == score)
    }

    /// The panel or total the code names, and whether it is the total.
    pub fn of_code(code: &str) -> Option<(Instrument, bool)> {
        Instrument::all().find_map(|i| {
            let c = i.codes();
            (code == c.panel).then_some((i, false)).or((code == c.total).then_some((i, true)))
        })
    }

    pub fn rules(self) -> &'static Rules {
        &self.form().rules
    }

    /// The scale it belongs to: its own id, or the id its paired forms share (`smfq`).
    pub fn scale(self) -> &'static str {
        &self.form().scale
    }

    /// A screen (PHQ-2, GAD-2, AUDIT-C): recorded for any practice patient, never a target's scale.
    pub fn is_screen(self) -> bool {
        self.form().kind == "screen"
    }

    /// The severity bands as score ranges, lowest first (for charts).
    pub fn bands(self) -> &'static [Band] {
        &self.form().bands
    }

    /// The band of a total; a total above the maximum falls in the last band.
    pub fn band(self, total: u8) -> &'static Band {
        let bands = self.bands();
        bands.iter().find(|b| total <= b.to).unwrap_or(&bands[bands.len() - 1])
    }

    /// Severity band of a total (spec §3, §3a).
    pub fn severity(self, total: u8) -> Severity {
        self.band(total).severity
    }

    /// The cell colour of a total (spec §4), from its band.
    pub fn colour(self, total: u8) -> Colour {
        self.band(total).colour
    }

    /// Counted as the PHQ-9 by the measures defined on it (the PHQ-9 itself, the PHQ-A).
    pub fn counts_as_phq9(self) -> bool {
        catalogue().counts_as_phq9[usize::from(self.0)]
    }

    /// Whether any item is a safety item (PHQ-9 and PHQ-A item 9).
    pub fn has_safety_items(self) -> bool {
        !self.form().safety.is_empty()
    }

    /// Every form of the catalogue, in its order.
    pub fn all() -> impl Iterator<Item = Instrument> {
        (0..catalogue().forms.len()).map(|i| Instrument(i as u8))
    }
}

impl std::fmt::Debug for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Instrument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Instrument {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Instrument {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("instrument", &s).map_err(serde::de::Error::custom)
    }
}

/// The forms of a scale, in catalogue order (one, or a child and a parent form).
pub fn scale_forms(scale: &str) -> Vec<Instrument> {
    Instrument::all().filter(|i| i.scale() == scale).collect()
}

/// Reads a scale: a scale id, or the id of one of its forms (`smfq-p` names `smfq`).
pub fn parse_scale(field: &str, s: &str) -> Result<&'static str> {
    let s = s.trim();
    if let Some(i) = Instrument::all().find(|i| i.scale() == s) {
        return Ok(i.scale());
    }
    Instrument::by_id(s).map(Instrument::scale).ok_or_else(|| {
        let mut scales: Vec<&str> = Instrument::all().filter(|i| !i.is_screen()).map(Instrument::scale).collect();
        scales.dedup();
        Error::validation(field, format!("must be one of {} (got '{s}')", scales.join(", ")))
    })
}

/// The label of a scale: its form's, or the pair's shared part ("SMFQ").
pub fn scale_label(scale: &str) -> String {
    match scale_forms(scale).as_slice() {
        [one] => one.label().to_string(),
        _ => scale.to_uppercase(),
    }
}

/// The age groups the default primary scale depends on (spec §3a, settings).
#[derive(Clone, Copy, Debug)]
pub struct AgeGroups {
    pub adolescent_from: i64,
    pub adult_from: i64,
}

/// A target's default primary scale for a patient of `age` on the enrolment date.
pub fn default_scale(target: Target, age: i64, groups: AgeGroups) -> &'static str {
    let d = catalogue().target_defaults.iter().find(|d| d.target == target).expect("the catalogue checks every target has a default");
    if age >= groups.adult_from {
        &d.adult
    } else if age >= groups.adolescent_from {
        &d.adolescent
    } else {
        &d.child
    }
}

/// Every target's defaults, for the catalogue listing.
pub fn target_defaults() -> &'static [TargetDefault] {
    &catalogue().target_defaults
}

/// The whole catalogue as `cocm instruments --json` and the app read it: every form, in order,
/// and each target's default primary scales by age group.
#[derive(Clone, Debug, Serialize, ts_rs::TS)]
pub struct CatalogueListing {
    pub instruments: Vec<Form>,
    pub target_defaults: Vec<TargetDefault>,
}

pub fn listing() -> CatalogueListing {
    CatalogueListing { instruments: catalogue().forms.clone(), target_defaults: catalogue().target_defaults.clone() }
}

/// A scored administration.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Score {
    pub total: u8,
    pub severity: Severity,
    /// The form's safety items: `Some(true)` when any is positive, `None` when it has none.
    pub safety: Option<bool>,
    /// A positive suicide-risk screen (PHQ-9 item 9 answered 1–3; PHQ-A item 9, or a yes to its
    /// suicide questions) needing same-day follow-up. Named for the PHQ-9's item 9.
    pub item9_positive: bool,
}

/// The answers item `index` accepts, in words: "0–3", or "0, 2 or 4" where they skip.
fn answer_range(instrument: Instrument, index: usize) -> String {
    let mut scores: Vec<u8> = instrument.options(index).iter().map(|o| o.score).collect();
    scores.sort_unstable();
    let (lo, hi) = (scores[0], scores[scores.len() - 1]);
    if usize::from(hi - lo) + 1 == scores.len() {
        format!("{lo}–{hi}")
    } else {
        let words: Vec<String> = scores.iter().map(u8::to_string).collect();
        format!("{} or {}", words[..words.len() - 1].join(", "), words[words.len() - 1])
    }
}

/// The first answer an item does not offer, as the message naming the item.
fn bad_answer(instrument: Instrument, index: usize, answer: i64) -> Option<String> {
    let ok = instrument.options(index).iter().any(|o| i64::from(o.score) == answer);
    (!ok).then(|| format!("item {}: answer {answer} is outside {}", index + 1, answer_range(instrument, index)))
}

/// An item's score toward the total: reverse-scored items count from the top.
fn item_score(instrument: Instrument, index: usize, answer: u8) -> u8 {
    let f = instrument.form();
    if f.reverse_scored.contains(&(index + 1)) {
        let scores = instrument.options(index).iter().map(|o| o.score);
        let (lo, hi) = (scores.clone().min().unwrap_or(0), scores.max().unwrap_or(0));
        hi + lo - answer
    } else {
        answer
    }
}

/// The safety items' verdict on some answers (`None` when the form has none, or an item is unknown).
fn safety_of(instrument: Instrument, answer: impl Fn(usize) -> Option<i64>) -> Option<bool> {
    let safety = &instrument.form().safety;
    if safety.is_empty() {
        return None;
    }
    let mut positive = false;
    for s in safety {
        match answer(s.item - 1) {
            Some(a) => positive |= a >= i64::from(s.at_least),
            None if positive => {}
            None => return None,
        }
    }
    Some(positive)
}

/// Validates every answer and scores the instrument. A missing or extra item, or an answer
/// the item does not offer, is rejected with an error naming the item.
pub fn score(instrument: Instrument, answers: &[i64]) -> Result<Score> {
    let n = instrument.items().len();
    let label = instrument.label();
    if answers.len() < n {
        return Err(Error::validation(
            "items",
            format!("item {} is missing: the {label} has {n} items and {} were given", answers.len() + 1, answers.len()),
        ));
    }
    if answers.len() > n {
        return Err(Error::validation("items", format!("item {} is extra: the {label} has {n} items", n + 1)));
    }
    if let Some(problem) = answers.iter().enumerate().find_map(|(i, a)| bad_answer(instrument, i, *a)) {
        return Err(Error::validation("items", problem));
    }
    let total: u32 = instrument
        .items()
        .iter()
        .zip(answers)
        .enumerate()
        .filter(|(_, (item, _))| item.scored)
        .map(|(i, (_, a))| u32::from(item_score(instrument, i, *a as u8)))
        .sum();
    let total = total as u8;
    let safety = safety_of(instrument, |i| answers.get(i).copied());
    Ok(Score { total, severity: instrument.severity(total), safety, item9_positive: safety == Some(true) })
}

/// The running score of a form still being filled in: what a care manager sees while entering
/// answers item by item. The total and band are final only once every item is answered.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct LiveScore {
    pub answered: usize,
    pub items: usize,
    pub total: u8,
    /// The band, once every item is answered.
    pub severity: Option<Severity>,
    /// A safety item answered positive: show the safety alert now, not after saving.
    pub item9_positive: bool,
    /// The first problem, naming the item (an answer the item does not offer).
    pub problem: Option<String>,
}

pub fn live_score(instrument: Instrument, answers: &[Option<i64>]) -> LiveScore {
    let n = instrument.items().len();
    let problem = answers
        .iter()
        .enumerate()
        .take(n)
        .find_map(|(i, a)| a.and_then(|a| bad_answer(instrument, i, a)))
        .or_else(|| (answers.len() > n).then(|| format!("item {} is extra: the {} has {n} items", n + 1, instrument.label())));
    let valid = |i: usize| answers.get(i).copied().flatten().filter(|a| bad_answer(instrument, i, *a).is_none());
    let total: u32 = (0..n.min(answers.len()))
        .filter(|i| instrument.items()[*i].scored)
        .filter_map(|i| valid(i).map(|a| u32::from(item_score(instrument, i, a as u8))))
        .sum();
    let total = total as u8;
    let complete = problem.is_none() && answers.len() == n && answers.iter().all(Option::is_some);
    // The alert shows as soon as one safety item is positive, before the form is complete.
    let safety_alert = instrument.form().safety.iter().any(|s| valid(s.item - 1).is_some_and(|a| a >= i64::from(s.at_least)));
    LiveScore {
        answered: answers.iter().take(n).filter(|a| a.is_some()).count(),
        items: n,
        total,
        severity: complete.then(|| instrument.severity(total)),
        item9_positive: safety_alert,
        problem,
    }
}

/// Reads answers written as `1,2,0,…`; a blank or non-numeric answer is an error naming the item.
pub fn parse_answers(text: &str) -> Result<Vec<i64>> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::validation("items", "no answers given"));
    }
    text.split(',')
        .enumerate()
        .map(|(i, a)| {
            let a = a.trim();
            if a.is_empty() {
                return Err(Error::validation("items", format!("item {} is missing", i + 1)));
            }
            a.parse::<i64>()
                .map_err(|_| Error::validation("items", format!("item {}: '{a}' is not an answer (answers are numbers)", i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests;
