//! The spec's closed vocabularies (spec §2), each a Rust enum that reads and writes the spec's
//! own spelling, so that a value outside the list is a validation error naming the field.

/// Declares an enum whose variants are spelled as the given strings in storage, JSON and the CLI.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ts_rs::TS)]
        pub enum $name { $(#[ts(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the spec's spelling; anything else is a validation error on `field`.
            pub fn parse(field: &str, s: &str) -> $crate::Result<Self> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::Error::validation(
                        field,
                        format!("must be one of {} (got '{}')", [$($text),+].join(", "), other),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(stringify!($name), &s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// A team member's one role.
    Role {
        CareManager => "care-manager",
        PsychiatricConsultant => "psychiatric-consultant",
        Pcp => "pcp",
        PracticeLead => "practice-lead",
        // Not a team member's role: what a questionnaire link or a clinic tablet acts as
        // (spec §10). It may only present questionnaires and take their answers.
        Kiosk => "kiosk",
    }
);

string_enum!(Payer {
    Medicare => "medicare",
    Medicaid => "medicaid",
    Commercial => "commercial",
    SelfPay => "self-pay",
    Other => "other",
});

string_enum!(
    /// What an episode treats; each target is judged by its primary scale (spec §3a).
    Target {
        Depression => "depression",
        Anxiety => "anxiety",
        Ptsd => "ptsd",
        PediatricBehavioral => "pediatric-behavioral",
    }
);

string_enum!(EpisodeStatus {
    Active => "active",
    RelapsePrevention => "relapse-prevention",
    Discharged => "discharged",
});

string_enum!(DischargeReason {
    GoalsMet => "goals-met",
    ReferredToSpecialtyCare => "referred-to-specialty-care",
    Disengaged => "disengaged",
    Declined => "declined",
    Moved => "moved",
    Deceased => "deceased",
    Other => "other",
});

string_enum!(ContactKind {
    InitialAssessment => "initial-assessment",
    FollowUp => "follow-up",
    OutreachAttempt => "outreach-attempt",
    CareCoordination => "care-coordination",
    CaseReview => "case-review",
    SafetyCheck => "safety-check",
    RelapsePreventionPlan => "relapse-prevention-plan",
    Other => "other",
});

string_enum!(ContactMode {
    InPerson => "in-person",
    Phone => "phone",
    Video => "video",
    Portal => "portal",
    None => "none",
});

/// A clinical contact (spec §9): a synchronous contact in which treatment is delivered to the
/// patient or a child's caregiver, of these kinds in these modes. Outreach attempts, care
/// coordination, case reviews and portal messages are not.
pub const CLINICAL_CONTACT_KINDS: [ContactKind; 4] =
    [ContactKind::InitialAssessment, ContactKind::FollowUp, ContactKind::SafetyCheck, ContactKind::RelapsePreventionPlan];
pub const CLINICAL_CONTACT_MODES: [ContactMode; 3] = [ContactMode::InPerson, ContactMode::Phone, ContactMode::Video];

pub fn is_clinical_contact(kind: ContactKind, mode: ContactMode) -> bool {
    CLINICAL_CONTACT_KINDS.contains(&kind) && CLINICAL_CONTACT_MODES.contains(&mode)
}

/// The same rule as SQL over `contacts` aliased `alias`, built from the same lists.
pub fn clinical_contact_sql(alias: &str) -> String {
    let list = |v: Vec<&str>| v.iter().map(|x| format!("'{x}'")).collect::<Vec<_>>().join(", ");
    format!(
        "{alias}.kind IN ({}) AND {alias}.mode IN ({})",
        list(CLINICAL_CONTACT_KINDS.iter().map(|k| k.as_str()).collect()),
        list(CLINICAL_CONTACT_MODES.iter().map(|m| m.as_str()).collect())
    )
}

string_enum!(TreatmentChangeKind {
    MedicationStarted => "medication-started",
    MedicationChanged => "medication-changed",
    PsychotherapyStarted => "psychotherapy-started",
    PsychotherapyChanged => "psychotherapy-changed",
    Other => "other",
});

pub(crate) use string_enum;

/// Reads a comma-separated target list such as `depression,anxiety` (no duplicates, not empty).
pub fn parse_targets(field: &str, s: &str) -> crate::Result<Vec<Target>> {
    let mut targets = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let t = Target::parse(field, part)?;
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    if targets.is_empty() {
        return Err(crate::Error::validation(field, "name at least one target: depression, anxiety, ptsd, pediatric-behavioral"));
    }
    targets.sort();
    Ok(targets)
}

pub fn targets_to_string(targets: &[Target]) -> String {
    targets.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_spec_spelling() {
        for r in Role::ALL {
            assert_eq!(Role::parse("role", r.as_str()).unwrap(), *r);
        }
        let e = Role::parse("role", "nurse").unwrap_err();
        assert_eq!(e.code(), "validation");
        assert!(e.to_string().contains("role: must be one of care-manager"), "{e}");
        assert_eq!(serde_json::to_string(&DischargeReason::GoalsMet).unwrap(), "\"goals-met\"");
    }

    #[test]
    fn targets_parse_sorted_and_deduplicated() {
        assert_eq!(parse_targets("targets", "anxiety, depression,anxiety").unwrap(), vec![Target::Depression, Target::Anxiety]);
        assert!(parse_targets("targets", " , ").is_err());
        assert_eq!(parse_targets("targets", "ptsd,depression").unwrap(), vec![Target::Depression, Target::Ptsd]);
        assert!(parse_targets("targets", "insomnia").is_err());
    }
}
