//! Every LOINC code the registry uses, in one place (spec §3; issue 10's FHIR list): the PHQ-9
//! and GAD-7 panels, their items and totals, the answer codes, the PHQ-9's difficulty question
//! and the consult note. `instruments` names its items through this table, and the FHIR
//! export and import read it; nothing else spells a LOINC code.

pub const SYSTEM: &str = "http://loinc.org";

pub const PHQ9_PANEL: &str = "44249-1";
pub const PHQ9_TOTAL: &str = "44261-6";
/// Items 1 to 9, in the questionnaire's order.
pub const PHQ9_ITEMS: [&str; 9] = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"];
/// "How difficult have these problems made it…" (unscored).
pub const PHQ9_DIFFICULTY: &str = "69722-7";

pub const GAD7_PANEL: &str = "69737-5";
pub const GAD7_TOTAL: &str = "70274-6";
/// Items 1 to 7, in the questionnaire's order.
pub const GAD7_ITEMS: [&str; 7] = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"];

/// Answers 0 to 3 with their labels: Not at all, Several days, More than half the days, Nearly
/// every day.
pub const ANSWERS: [(&str, &str); 4] =
    [("LA6568-5", "Not at all"), ("LA6569-3", "Several days"), ("LA6570-1", "More than half the days"), ("LA6571-9", "Nearly every day")];

/// GAD-7 item 2 (68509-9) has its own answer list, whose "More than half the days" is LA18938-3.
const GAD7_ITEM2_MORE_THAN_HALF: &str = "LA18938-3";

/// The difficulty answers in the registry's order (not difficult, somewhat, very, extremely).
/// LOINC numbered "Very" after "Extremely", so the codes are not in numeric order.
pub const DIFFICULTY_ANSWERS: [(&str, &str); 4] = [
    ("LA6572-7", "Not difficult at all"),
    ("LA6573-5", "Somewhat difficult"),
    ("LA6575-0", "Very difficult"),
    ("LA6574-3", "Extremely difficult"),
];

/// A consultant's case review, exported as a consult note.
pub const CONSULT_NOTE: &str = "11488-4";
/// A patient's consent (to collaborative care), the FHIR Consent's category.
pub const PATIENT_CONSENT: &str = "59284-0";

/// The LOINC answer code and label of `value` (0–3) to the item coded `item`.
pub fn answer(item: &str, value: u8) -> Option<(&'static str, &'static str)> {
    let (code, label) = *ANSWERS.get(usize::from(value))?;
    if item == GAD7_ITEMS[1] && value == 2 {
        return Some((GAD7_ITEM2_MORE_THAN_HALF, label));
    }
    Some((code, label))
}

/// The value (0–3) of a LOINC answer code, whichever item's list it comes from.
pub fn answer_value(code: &str) -> Option<u8> {
    if code == GAD7_ITEM2_MORE_THAN_HALF {
        return Some(2);
    }
    ANSWERS.iter().position(|(c, _)| *c == code).map(|i| i as u8)
}

/// The questionnaire LOINC publishes for a panel.
pub fn questionnaire(panel: &str) -> String {
    format!("http://loinc.org/q/{panel}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each expected code is copied from issue 10's list (and spec §3), not from this file.
    #[test]
    fn phq9_codes_one_by_one() {
        assert_eq!(PHQ9_PANEL, "44249-1");
        assert_eq!(PHQ9_TOTAL, "44261-6");
        assert_eq!(PHQ9_DIFFICULTY, "69722-7");
        let expected = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"];
        for (i, code) in expected.iter().enumerate() {
            assert_eq!(PHQ9_ITEMS[i], *code, "PHQ-9 item {}", i + 1);
        }
    }

    #[test]
    fn gad7_codes_one_by_one() {
        assert_eq!(GAD7_PANEL, "69737-5");
        assert_eq!(GAD7_TOTAL, "70274-6");
        let expected = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"];
        for (i, code) in expected.iter().enumerate() {
            assert_eq!(GAD7_ITEMS[i], *code, "GAD-7 item {}", i + 1);
        }
    }

    #[test]
    fn answers_by_value_and_back() {
        // 0 LA6568-5, 1 LA6569-3, 2 LA6570-1, 3 LA6571-9 for every item...
        for item in PHQ9_ITEMS.iter().chain(&GAD7_ITEMS) {
            assert_eq!(answer(item, 0).unwrap().0, "LA6568-5");
            assert_eq!(answer(item, 1).unwrap().0, "LA6569-3");
            assert_eq!(answer(item, 3).unwrap().0, "LA6571-9");
            assert_eq!(answer(item, 4), None, "there is no answer 4");
        }
        // ...except 2, which is LA18938-3 for GAD-7 item 2 (68509-9) alone.
        for item in PHQ9_ITEMS.iter().chain(&GAD7_ITEMS) {
            let expected = if *item == "68509-9" { "LA18938-3" } else { "LA6570-1" };
            assert_eq!(answer(item, 2).unwrap().0, expected, "item {item}");
        }
        for (code, value) in [("LA6568-5", 0), ("LA6569-3", 1), ("LA6570-1", 2), ("LA18938-3", 2), ("LA6571-9", 3)] {
            assert_eq!(answer_value(code), Some(value), "{code}");
        }
        assert_eq!(answer_value("LA6572-7"), None, "a difficulty answer is not an item answer");
    }

    #[test]
    fn difficulty_answers_in_the_registrys_order() {
        // Not difficult at all LA6572-7, somewhat LA6573-5, very LA6575-0, extremely LA6574-3.
        let codes: Vec<&str> = DIFFICULTY_ANSWERS.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, ["LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"]);
        assert_eq!(DIFFICULTY_ANSWERS[2].1, "Very difficult");
        assert_eq!(DIFFICULTY_ANSWERS[3].1, "Extremely difficult");
    }

    #[test]
    fn consult_note_and_questionnaires() {
        assert_eq!(CONSULT_NOTE, "11488-4");
        assert_eq!(PATIENT_CONSENT, "59284-0");
        assert_eq!(questionnaire(PHQ9_PANEL), "http://loinc.org/q/44249-1");
        assert_eq!(questionnaire(GAD7_PANEL), "http://loinc.org/q/69737-5");
    }
}
