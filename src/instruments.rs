//! The PHQ-9 and GAD-7 (spec §3): items, LOINC codes, scoring, severity bands and validation.
//! Totals and bands are always derived here from the item answers, never typed in.

use serde::Serialize;

use crate::loinc;
use crate::vocab::string_enum;
use crate::{Error, Result};

string_enum!(Instrument {
    Phq9 => "phq9",
    Gad7 => "gad7",
});

string_enum!(Severity {
    Minimal => "minimal",
    Mild => "mild",
    Moderate => "moderate",
    ModeratelySevere => "moderately-severe",
    Severe => "severe",
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

#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Item {
    pub number: usize,
    pub text: &'static str,
    pub loinc: &'static str,
}

const PHQ9_ITEMS: &[Item] = &[
    Item { number: 1, text: "Little interest or pleasure in doing things", loinc: loinc::PHQ9_ITEMS[0] },
    Item { number: 2, text: "Feeling down, depressed, or hopeless", loinc: loinc::PHQ9_ITEMS[1] },
    Item { number: 3, text: "Trouble falling or staying asleep, or sleeping too much", loinc: loinc::PHQ9_ITEMS[2] },
    Item { number: 4, text: "Feeling tired or having little energy", loinc: loinc::PHQ9_ITEMS[3] },
    Item { number: 5, text: "Poor appetite or overeating", loinc: loinc::PHQ9_ITEMS[4] },
    Item {
        number: 6,
        text: "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
        loinc: loinc::PHQ9_ITEMS[5],
    },
    Item {
        number: 7,
        text: "Trouble concentrating on things, such as reading the newspaper or watching television",
        loinc: loinc::PHQ9_ITEMS[6],
    },
    Item {
        number: 8,
        text: "Moving or speaking so slowly that other people could have noticed; or the opposite — being so fidgety or restless that you have been moving around a lot more than usual",
        loinc: loinc::PHQ9_ITEMS[7],
    },
    Item { number: 9, text: "Thoughts that you would be better off dead, or of hurting yourself in some way", loinc: loinc::PHQ9_ITEMS[8] },
];

const GAD7_ITEMS: &[Item] = &[
    Item { number: 1, text: "Feeling nervous, anxious, or on edge", loinc: loinc::GAD7_ITEMS[0] },
    Item { number: 2, text: "Not being able to stop or control worrying", loinc: loinc::GAD7_ITEMS[1] },
    Item { number: 3, text: "Worrying too much about different things", loinc: loinc::GAD7_ITEMS[2] },
    Item { number: 4, text: "Trouble relaxing", loinc: loinc::GAD7_ITEMS[3] },
    Item { number: 5, text: "Being so restless that it is hard to sit still", loinc: loinc::GAD7_ITEMS[4] },
    Item { number: 6, text: "Becoming easily annoyed or irritable", loinc: loinc::GAD7_ITEMS[5] },
    Item { number: 7, text: "Feeling afraid, as if something awful might happen", loinc: loinc::GAD7_ITEMS[6] },
];

impl Instrument {
    pub fn label(self) -> &'static str {
        match self {
            Instrument::Phq9 => "PHQ-9",
            Instrument::Gad7 => "GAD-7",
        }
    }

    pub fn items(self) -> &'static [Item] {
        match self {
            Instrument::Phq9 => PHQ9_ITEMS,
            Instrument::Gad7 => GAD7_ITEMS,
        }
    }

    pub fn max_total(self) -> u8 {
        3 * self.items().len() as u8
    }

    /// LOINC codes of the panel and of its total score.
    pub fn loinc(self) -> (&'static str, &'static str) {
        match self {
            Instrument::Phq9 => (loinc::PHQ9_PANEL, loinc::PHQ9_TOTAL),
            Instrument::Gad7 => (loinc::GAD7_PANEL, loinc::GAD7_TOTAL),
        }
    }

    /// The severity bands as score ranges, lowest first (for charts).
    pub fn bands(self) -> Vec<Band> {
        let mut ranges = vec![(0, 4), (5, 9), (10, 14)];
        match self {
            Instrument::Phq9 => ranges.extend([(15, 19), (20, 27)]),
            Instrument::Gad7 => ranges.push((15, 21)),
        }
        ranges.into_iter().map(|(from, to)| Band { from, to, severity: self.severity(from) }).collect()
    }

    /// Severity band of a total (spec §3).
    pub fn severity(self, total: u8) -> Severity {
        match (self, total) {
            (_, 0..=4) => Severity::Minimal,
            (_, 5..=9) => Severity::Mild,
            (_, 10..=14) => Severity::Moderate,
            (Instrument::Phq9, 15..=19) => Severity::ModeratelySevere,
            _ => Severity::Severe,
        }
    }
}

/// One severity band: totals from `from` to `to`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Band {
    pub from: u8,
    pub to: u8,
    pub severity: Severity,
}

/// A scored administration.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, ts_rs::TS)]
pub struct Score {
    pub total: u8,
    pub severity: Severity,
    /// PHQ-9 item 9 (thoughts of death or self-harm); `None` for the GAD-7.
    pub item9: Option<u8>,
    /// Item 9 answered 1, 2 or 3: a positive suicide-risk screen needing same-day follow-up.
    pub item9_positive: bool,
}

/// Validates every answer and scores the instrument. A missing or extra item, or an answer
/// outside 0–3, is rejected with an error naming the item.
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
    for (i, a) in answers.iter().enumerate() {
        if !(0..=3).contains(a) {
            return Err(Error::validation("items", format!("item {}: answer {a} is outside 0–3", i + 1)));
        }
    }
    let total = answers.iter().sum::<i64>() as u8;
    let item9 = (instrument == Instrument::Phq9).then(|| answers[8] as u8);
    Ok(Score { total, severity: instrument.severity(total), item9, item9_positive: item9_positive(item9) })
}

/// Spec §3: PHQ-9 item 9 answered 1, 2 or 3 is a positive suicide-risk screen. `None` (a
/// GAD-7, or a PHQ-9 whose item 9 is unknown) is not positive. The one definition.
pub fn item9_positive(item9: Option<u8>) -> bool {
    item9.is_some_and(|a| (1..=3).contains(&a))
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
    /// PHQ-9 item 9 answered 1–3: show the safety alert now, not after saving.
    pub item9_positive: bool,
    /// The first problem, naming the item (an answer outside 0–3).
    pub problem: Option<String>,
}

pub fn live_score(instrument: Instrument, answers: &[Option<i64>]) -> LiveScore {
    let n = instrument.items().len();
    let problem = answers
        .iter()
        .enumerate()
        .find_map(|(i, a)| a.filter(|a| !(0..=3).contains(a)).map(|a| format!("item {}: answer {a} is outside 0–3", i + 1)))
        .or_else(|| (answers.len() > n).then(|| format!("item {} is extra: the {} has {n} items", n + 1, instrument.label())));
    let given: Vec<i64> = answers.iter().take(n).flatten().copied().filter(|a| (0..=3).contains(a)).collect();
    let total = given.iter().sum::<i64>() as u8;
    let complete = problem.is_none() && answers.len() == n && answers.iter().all(Option::is_some);
    let item9 = if instrument == Instrument::Phq9 { answers.get(8).copied().flatten() } else { None };
    LiveScore {
        answered: answers.iter().take(n).filter(|a| a.is_some()).count(),
        items: n,
        total,
        severity: complete.then(|| instrument.severity(total)),
        item9_positive: item9_positive(item9.and_then(|a| u8::try_from(a).ok())),
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
            a.parse::<i64>().map_err(|_| Error::validation("items", format!("item {}: '{a}' is not an answer (use 0–3)", i + 1)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phq9_severity_boundaries() {
        let bands = [
            (0, "minimal"),
            (4, "minimal"),
            (5, "mild"),
            (9, "mild"),
            (10, "moderate"),
            (14, "moderate"),
            (15, "moderately-severe"),
            (19, "moderately-severe"),
            (20, "severe"),
            (27, "severe"),
        ];
        for (total, band) in bands {
            assert_eq!(Instrument::Phq9.severity(total).as_str(), band, "PHQ-9 {total}");
        }
    }

    #[test]
    fn gad7_severity_boundaries() {
        let bands =
            [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"), (15, "severe"), (21, "severe")];
        for (total, band) in bands {
            assert_eq!(Instrument::Gad7.severity(total).as_str(), band, "GAD-7 {total}");
        }
    }

    #[test]
    fn scores_totals_and_item9() {
        let s = score(Instrument::Phq9, &[3, 3, 3, 3, 3, 3, 3, 3, 3]).unwrap();
        assert_eq!((s.total, s.severity, s.item9, s.item9_positive), (27, Severity::Severe, Some(3), true));
        let s = score(Instrument::Phq9, &[1, 1, 1, 1, 1, 1, 1, 1, 0]).unwrap();
        assert_eq!((s.total, s.item9_positive), (8, false));
        let s = score(Instrument::Phq9, &[0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        assert!(s.item9_positive);
        let s = score(Instrument::Gad7, &[3, 3, 3, 3, 3, 3, 3]).unwrap();
        assert_eq!((s.total, s.item9, s.item9_positive), (21, None, false));
    }

    #[test]
    fn live_score_while_filling_in() {
        let mut answers = vec![Some(2), Some(3), None, None, None, None, None, None, None];
        let s = live_score(Instrument::Phq9, &answers);
        assert_eq!((s.answered, s.items, s.total, s.severity, s.item9_positive), (2, 9, 5, None, false));
        answers[8] = Some(1);
        assert!(live_score(Instrument::Phq9, &answers).item9_positive, "the alert shows before the form is complete");
        let full: Vec<Option<i64>> = vec![Some(2); 9];
        assert_eq!(live_score(Instrument::Phq9, &full).severity, Some(Severity::ModeratelySevere));
        assert_eq!(live_score(Instrument::Gad7, &[Some(4)]).problem.as_deref(), Some("item 1: answer 4 is outside 0–3"));
    }

    #[test]
    fn rejects_bad_answers_naming_the_item() {
        let msg = |r: Result<Score>| r.unwrap_err().to_string();
        assert!(msg(score(Instrument::Phq9, &[1; 8])).contains("item 9 is missing"));
        assert!(msg(score(Instrument::Phq9, &[1; 10])).contains("item 10 is extra"));
        assert!(msg(score(Instrument::Gad7, &[1, 1, 4, 1, 1, 1, 1])).contains("item 3: answer 4 is outside 0–3"));
        assert!(msg(score(Instrument::Gad7, &[1, 1, 1, 1, 1, 1, -1])).contains("item 7: answer -1"));
        assert!(parse_answers("1,2,x").unwrap_err().to_string().contains("item 3: 'x' is not an answer"));
        assert!(parse_answers("1,,2").unwrap_err().to_string().contains("item 2 is missing"));
        assert_eq!(parse_answers(" 1, 2 ,3").unwrap(), vec![1, 2, 3]);
    }
}
