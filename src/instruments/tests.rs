//! The catalogue, entry by entry, from each instrument's source (spec §3, §3a and
//! `shared/instruments/reference.json`): item counts, answer ranges, totals, bands and rules
//! written out by hand here, never read back from the data files.

use super::*;

fn form(id: &str) -> Instrument {
    Instrument::by_id(id).unwrap_or_else(|| panic!("no {id} in the catalogue"))
}

#[test]
fn every_form_is_complete() {
    // Loading checks each entry (bands cover 0..max, codes have LOINC's shape and check digit,
    // thresholds in range, a measure has its rule, a translation every item): this fails the
    // tests, not a patient's form, when a data file is malformed.
    let ids: Vec<&str> = Instrument::all().map(Instrument::as_str).collect();
    assert_eq!(ids, ["phq9", "gad7", "phq-a", "pcl5", "psc17", "smfq-c", "smfq-p", "scared-c", "scared-p", "phq2", "gad2", "auditc"]);
    assert_eq!((Instrument::PHQ9.as_str(), Instrument::GAD7.as_str()), ("phq9", "gad7"));
    for i in Instrument::all() {
        let f = i.form();
        assert!(!f.source.is_empty() && !f.terms.is_empty(), "{i}: source and terms");
    }
}

#[test]
fn loinc_codes_carry_their_check_digit() {
    for good in ["44249-1", "44261-6", "69737-5", "101697-1", "89204-2", "55758-7", "LA6568-5", "LA18938-3"] {
        assert!(is_loinc_code(good), "{good}");
    }
    // A wrong check digit, no hyphen, letters, too long.
    for bad in ["44249-2", "442491", "4424a-1", "12345678-9", "44249-", "-1"] {
        assert!(!is_loinc_code(bad), "{bad}");
    }
}

/// (id, items, lowest answer, highest answer, maximum total) from each source.
#[test]
fn item_counts_answer_ranges_and_totals() {
    let expected: &[(&str, usize, u8, u8, u8)] = &[
        ("phq9", 9, 0, 3, 27),    // 9 × 0–3
        ("gad7", 7, 0, 3, 21),    // 7 × 0–3
        ("phq-a", 13, 0, 3, 27),  // 9 scored × 0–3 plus 4 unscored questions
        ("pcl5", 20, 0, 4, 80),   // 20 × 0–4
        ("psc17", 17, 0, 2, 34),  // 17 × 0–2
        ("smfq-c", 13, 0, 2, 26), // 13 × 0–2
        ("smfq-p", 13, 0, 2, 26),
        ("scared-c", 41, 0, 2, 82), // 41 × 0–2
        ("scared-p", 41, 0, 2, 82),
        ("phq2", 2, 0, 3, 6),
        ("gad2", 2, 0, 3, 6),
        ("auditc", 3, 0, 4, 12), // 3 × 0–4
    ];
    for (id, n, lo, hi, max) in expected {
        let i = form(id);
        assert_eq!(i.items().len(), *n, "{id} items");
        let scores: Vec<u8> = i.options(0).iter().map(|o| o.score).collect();
        assert_eq!((scores.iter().min().copied(), scores.iter().max().copied()), (Some(*lo), Some(*hi)), "{id} answers");
        assert_eq!(i.max_total(), *max, "{id} maximum");
        assert!(i.form().reverse_scored.is_empty(), "{id}: none of these is reverse-scored");
    }
}

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
        assert_eq!(Instrument::PHQ9.severity(total).as_str(), band, "PHQ-9 {total}");
        assert_eq!(form("phq-a").severity(total).as_str(), band, "PHQ-A {total}");
    }
}

#[test]
fn gad7_severity_boundaries() {
    let bands =
        [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"), (15, "severe"), (21, "severe")];
    for (total, band) in bands {
        assert_eq!(Instrument::GAD7.severity(total).as_str(), band, "GAD-7 {total}");
    }
}

#[test]
fn cut_off_bands() {
    // (id, last total below the cut-off, the cut-off): PCL-5 33, PSC-17 15, SMFQ 12, SCARED 25,
    // PHQ-2 and GAD-2 3, AUDIT-C 3 (women; 4 for men).
    for (id, below, at) in
        [("pcl5", 32, 33), ("psc17", 14, 15), ("smfq-c", 11, 12), ("scared-p", 24, 25), ("phq2", 2, 3), ("gad2", 2, 3), ("auditc", 2, 3)]
    {
        let i = form(id);
        assert_eq!((i.severity(below), i.severity(at)), (Severity::Negative, Severity::Positive), "{id}");
    }
}

#[test]
fn rules_from_spec_3a() {
    // (id, elevated baseline, remission below, positive screen)
    type Lines = (&'static str, Option<u8>, Option<u8>, Option<u8>);
    let expected: &[Lines] = &[
        ("phq9", Some(10), Some(5), None),
        ("gad7", Some(10), Some(5), None),
        ("phq-a", Some(10), Some(5), None),
        ("pcl5", Some(33), Some(33), None),
        ("psc17", Some(15), Some(15), None),
        ("smfq-c", Some(12), Some(8), None),
        ("scared-c", Some(25), Some(25), None),
        ("scared-p", Some(25), Some(25), None),
        ("phq2", None, None, Some(3)),
        ("gad2", None, None, Some(3)),
        ("auditc", None, None, Some(3)),
    ];
    for (id, elevated, remission, screen) in expected {
        let r = form(id).rules();
        assert_eq!((r.elevated_baseline, r.remission_below, r.positive_screen), (*elevated, *remission, *screen), "{id}");
    }
    assert_eq!(form("pcl5").rules().improvement, Some(Improvement { percent: None, or_below: None, points: Some(12) }));
    assert_eq!(form("smfq-p").rules().improvement, Some(Improvement { percent: None, or_below: None, points: Some(6) }));
    assert_eq!(Instrument::PHQ9.rules().improvement, Some(Improvement { percent: Some(50), or_below: Some(10), points: None }));
    assert!(form("phq2").is_screen() && !form("pcl5").is_screen());
}

#[test]
fn phq9_and_gad7_codes_are_spec_3s() {
    // §3's LOINC item codes, in order.
    let phq9 = ["44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"];
    let codes: Vec<&str> = Instrument::PHQ9.items().iter().map(|i| i.code.as_deref().unwrap()).collect();
    assert_eq!(codes, phq9);
    let gad7 = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"];
    let codes: Vec<&str> = Instrument::GAD7.items().iter().map(|i| i.code.as_deref().unwrap()).collect();
    assert_eq!(codes, gad7);
    assert_eq!((Instrument::PHQ9.codes().panel.as_str(), Instrument::PHQ9.codes().total.as_str()), ("44249-1", "44261-6"));
    assert_eq!((Instrument::GAD7.codes().panel.as_str(), Instrument::GAD7.codes().total.as_str()), ("69737-5", "70274-6"));
    // §3's answer codes; GAD-7 item 2's "More than half the days" is its own (LA18938-3).
    let answers: Vec<&str> = Instrument::PHQ9.options(0).iter().map(|o| o.code.as_deref().unwrap()).collect();
    assert_eq!(answers, ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]);
    assert_eq!(Instrument::GAD7.option(1, 2).unwrap().code.as_deref(), Some("LA18938-3"));
    assert_eq!(Instrument::GAD7.option(0, 2).unwrap().code.as_deref(), Some("LA6570-1"));
    // Panels and totals LOINC has; the registry's own codes elsewhere.
    assert_eq!(form("pcl5").codes().panel, "101697-1");
    assert_eq!(form("phq-a").codes().total, "89204-2");
    assert_eq!(form("psc17").code_system(), REGISTRY_CODES);
    assert_eq!(form("psc17").item_coding(0), (REGISTRY_CODES, "psc17-1"));
    assert_eq!(Instrument::of_code("101698-9"), Some((form("pcl5"), true)));
    assert_eq!(Instrument::of_code("44249-1"), Some((Instrument::PHQ9, false)));
}

#[test]
fn text_is_shipped_only_where_the_terms_allow() {
    // SMFQ ("may be reproduced for use with one's own patients") and SCARED (no terms found):
    // scoring only, entered by item number. The EPDS is not in the catalogue at all.
    for id in ["smfq-c", "smfq-p", "scared-c", "scared-p"] {
        let f = form(id).form();
        assert!(!f.text_shipped && f.items.iter().all(|i| i.text.is_none()) && f.instructions.is_none(), "{id}");
    }
    for id in ["phq9", "gad7", "phq-a", "pcl5", "psc17", "phq2", "gad2", "auditc"] {
        assert!(form(id).form().text_shipped, "{id}");
    }
    assert!(Instrument::by_id("epds").is_none());
    // The Spanish PHQ-9 (Pfizer: no permission needed); no Spanish GAD-7 (no authoritative copy).
    let es = &Instrument::PHQ9.form().translations["es"];
    assert_eq!(es.items.len(), 9);
    assert_eq!(es.options, ["Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"]);
    assert!(Instrument::GAD7.form().translations.is_empty());
}

#[test]
fn scores_totals_and_safety() {
    let s = score(Instrument::PHQ9, &[3, 3, 3, 3, 3, 3, 3, 3, 3]).unwrap();
    assert_eq!((s.total, s.severity, s.safety, s.item9_positive), (27, Severity::Severe, Some(true), true));
    let s = score(Instrument::PHQ9, &[1, 1, 1, 1, 1, 1, 1, 1, 0]).unwrap();
    assert_eq!((s.total, s.safety, s.item9_positive), (8, Some(false), false));
    let s = score(Instrument::PHQ9, &[0, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
    assert!(s.item9_positive);
    let s = score(Instrument::GAD7, &[3, 3, 3, 3, 3, 3, 3]).unwrap();
    assert_eq!((s.total, s.safety, s.item9_positive), (21, None, false));
}

#[test]
fn phq_a_totals_items_1_to_9_and_raises_safety_on_its_suicide_questions() {
    let phq_a = form("phq-a");
    // Items 1–9 all 2 (18), item 10 yes, item 11 "very difficult" (2), 12 and 13 no: the
    // supplemental questions are not summed.
    let mut answers = vec![2, 2, 2, 2, 2, 2, 2, 2, 0, 1, 2, 0, 0];
    let s = score(phq_a, &answers).unwrap();
    assert_eq!((s.total, s.severity, s.item9_positive), (16, Severity::ModeratelySevere, false)); // 8 × 2 + item 9 = 0
    answers[8] = 1; // item 9 "several days"
    let s = score(phq_a, &answers).unwrap();
    assert_eq!((s.total, s.item9_positive), (17, true));
    answers[8] = 0;
    answers[12] = 1; // "Have you EVER … tried to kill yourself": yes
    assert!(score(phq_a, &answers).unwrap().item9_positive, "item 13 yes is a positive screen");
    // Yes/no items take 0 or 1 only.
    answers[12] = 2;
    let e = score(phq_a, &answers).unwrap_err().to_string();
    assert!(e.contains("item 13: answer 2 is outside 0–1"), "{e}");
}

#[test]
fn pcl5_and_auditc_scores() {
    // PCL-5: twenty items 0–4; all 2 is 40, at or above the cut-off of 33.
    let s = score(form("pcl5"), &[2; 20]).unwrap();
    assert_eq!((s.total, s.severity, s.safety), (40, Severity::Positive, None));
    assert!(score(form("pcl5"), &[5; 20]).unwrap_err().to_string().contains("item 1: answer 5 is outside 0–4"));
    // AUDIT-C: 1 + 1 + 1 = 3, positive for women.
    let s = score(form("auditc"), &[1, 1, 1]).unwrap();
    assert_eq!((s.total, s.severity), (3, Severity::Positive));
    // PSC-17: 17 items 0–2, one "often" (2) and the rest "never": 2, negative.
    let mut psc = vec![0; 17];
    psc[3] = 2;
    assert_eq!(score(form("psc17"), &psc).unwrap().severity, Severity::Negative);
}

#[test]
fn subscales_from_their_sources() {
    // PSC-17: internalizing 2, 6, 9, 11, 15 (≥ 5); attention 1, 3, 7, 13, 17 (≥ 7);
    // externalizing 4, 5, 8, 10, 12, 14, 16 (≥ 7). SCARED's five cover all 41 items once.
    let psc = &form("psc17").form().subscales;
    let got: Vec<(&str, &[usize], Option<u8>)> = psc.iter().map(|s| (s.id.as_str(), &s.items[..], s.cut_off)).collect();
    assert_eq!(
        got,
        [
            ("internalizing", &[2, 6, 9, 11, 15][..], Some(5)),
            ("attention", &[1, 3, 7, 13, 17][..], Some(7)),
            ("externalizing", &[4, 5, 8, 10, 12, 14, 16][..], Some(7)),
        ]
    );
    let mut all: Vec<usize> = form("scared-c").form().subscales.iter().flat_map(|s| s.items.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=41).collect::<Vec<_>>());
}

#[test]
fn live_score_while_filling_in() {
    let mut answers = vec![Some(2), Some(3), None, None, None, None, None, None, None];
    let s = live_score(Instrument::PHQ9, &answers);
    assert_eq!((s.answered, s.items, s.total, s.severity, s.item9_positive), (2, 9, 5, None, false));
    answers[8] = Some(1);
    assert!(live_score(Instrument::PHQ9, &answers).item9_positive, "the alert shows before the form is complete");
    let full: Vec<Option<i64>> = vec![Some(2); 9];
    assert_eq!(live_score(Instrument::PHQ9, &full).severity, Some(Severity::ModeratelySevere));
    assert_eq!(live_score(Instrument::GAD7, &[Some(4)]).problem.as_deref(), Some("item 1: answer 4 is outside 0–3"));
    assert_eq!(live_score(form("pcl5"), &[Some(4), Some(4)]).total, 8, "the PCL-5's answers run to 4");
}

#[test]
fn rejects_bad_answers_naming_the_item() {
    let msg = |r: Result<Score>| r.unwrap_err().to_string();
    assert!(msg(score(Instrument::PHQ9, &[1; 8])).contains("item 9 is missing"));
    assert!(msg(score(Instrument::PHQ9, &[1; 10])).contains("item 10 is extra"));
    assert!(msg(score(Instrument::GAD7, &[1, 1, 4, 1, 1, 1, 1])).contains("item 3: answer 4 is outside 0–3"));
    assert!(msg(score(Instrument::GAD7, &[1, 1, 1, 1, 1, 1, -1])).contains("item 7: answer -1"));
    assert!(parse_answers("1,2,x").unwrap_err().to_string().contains("item 3: 'x' is not an answer"));
    assert!(parse_answers("1,,2").unwrap_err().to_string().contains("item 2 is missing"));
    assert_eq!(parse_answers(" 1, 2 ,3").unwrap(), vec![1, 2, 3]);
    let e = Instrument::parse("instrument", "epds").unwrap_err().to_string();
    assert!(e.contains("instrument: must be one of phq9, gad7, phq-a, pcl5"), "{e}");
}

#[test]
fn default_primary_scales_by_age() {
    // §3a: depression → PHQ-9, the PHQ-A from 12 to 17; anxiety → GAD-7, SCARED for children.
    let groups = AgeGroups { adolescent_from: 12, adult_from: 18 };
    assert_eq!(default_scale(Target::Depression, 18, groups), "phq9");
    assert_eq!(default_scale(Target::Depression, 17, groups), "phq-a");
    assert_eq!(default_scale(Target::Depression, 12, groups), "phq-a");
    assert_eq!(default_scale(Target::Depression, 11, groups), "smfq");
    assert_eq!(default_scale(Target::Anxiety, 40, groups), "gad7");
    assert_eq!(default_scale(Target::Anxiety, 9, groups), "scared");
    assert_eq!(default_scale(Target::Ptsd, 40, groups), "pcl5");
    assert_eq!(default_scale(Target::PediatricBehavioral, 6, groups), "psc17");
    assert_eq!(scale_forms("smfq"), vec![form("smfq-c"), form("smfq-p")]);
    assert_eq!(parse_scale("primary-scale", "smfq-p").unwrap(), "smfq");
    assert!(parse_scale("primary-scale", "ham-d").is_err());
}

#[test]
fn a_practice_changes_only_the_thresholds_a_form_has() {
    use super::thresholds::{effective, parse_key, thresholds_of, value, with_threshold};
    // Every form's own thresholds are settable at their defaults (the catalogue passes its own check).
    for i in Instrument::all() {
        for t in thresholds_of(i) {
            let v = value(i.rules(), t).unwrap();
            assert_eq!(with_threshold(i, i.rules(), t, v, "k").unwrap(), *i.rules(), "{i}.{t}");
        }
    }
    assert_eq!(thresholds_of(form("pcl5")), ["elevated_baseline", "improvement_points", "remission_below"]);
    assert_eq!(thresholds_of(form("phq2")), ["positive_screen"]);
    assert_eq!(thresholds_of(form("smfq-p")), ["elevated_baseline", "improvement_points"], "no remission line on the parent form");
    assert!(parse_key("smfq-p.remission_below").is_err() && parse_key("phq9").is_err() && parse_key("phq9.").is_err());
    // Stored changes apply to their form alone; one the catalogue would refuse is a storage error.
    let rules = effective([("pcl5.remission_below", "30"), ("backup_keep", "14")].into_iter()).unwrap();
    assert_eq!((rules["pcl5"].remission_below, rules["phq9"].remission_below), (Some(30), Some(5)));
    assert!(effective([("pcl5.remission_below", "81")].into_iter()).is_err(), "81 is past the PCL-5's 80");
    assert!(effective([("pcl5.improvement_percent", "50")].into_iter()).is_err());
    // A percent runs 1–100, points from 1: 0 points would call every unchanged score improved.
    assert!(with_threshold(Instrument::PHQ9, Instrument::PHQ9.rules(), "improvement_percent", 0, "k").is_err());
    assert!(with_threshold(form("pcl5"), form("pcl5").rules(), "improvement_points", 0, "k").is_err());
}
