//! Who may do what: the role matrix (ARCHITECTURE.md, "Roles"). Every write names its
//! `Action`, and `Registry::write` checks it against the signed-in member's role before the
//! transaction opens, so the CLI, the app and a server are refused by the same code. A UI may
//! hide a button; only this module refuses.
//!
//! Two rules depend on the record, not only the role, and are checked where the record is
//! read: a contact is logged in the actor's own name unless a practice lead logs it
//! (`require_own_name`), and an entry is marked in error by its author or a lead
//! (`require_author_or_lead`).

use crate::audit::Actor;
use crate::vocab::{Role, string_enum};
use crate::{Error, Result};

string_enum!(
    /// Every kind of write (and every export) the registry does, by what a person would call it.
    Action {
        AddPatient => "add-patient",
        EditPatient => "edit-patient",
        Enrol => "enrol",
        RecordConsent => "record-consent",
        RecordAssessment => "record-assessment",
        LogContact => "log-contact",
        RequestReview => "request-review",
        RecordCaseReview => "record-case-review",
        RecordTreatmentChange => "record-treatment-change",
        ChangeStatus => "change-status",
        MarkEnteredInError => "mark-entered-in-error",
        ManageTeam => "manage-team",
        ManageAccounts => "manage-accounts",
        ChangeSettings => "change-settings",
        ChangeBillingRules => "change-billing-rules",
        Export => "export",
        Import => "import",
        ReadAuditLog => "read-audit-log",
        CorrectPrimaryScale => "correct-primary-scale",
        ManageOwnSecondFactor => "manage-own-second-factor",
        ChangeBillingProgram => "change-billing-program",
        RecordDiagnosis => "record-diagnosis",
        StateReport => "state-report",
        SendQuestionnaire => "send-questionnaire",
        ReviewAnswers => "review-answers",
        AnswerQuestionnaire => "answer-questionnaire",
    }
);

impl Action {
    /// What the refusal message says the actor tried to do.
    pub fn description(self) -> &'static str {
        match self {
            Action::AddPatient => "adding a patient",
            Action::EditPatient => "editing a patient's demographics or care team",
            Action::Enrol => "enrolling a patient",
            Action::RecordConsent => "recording consent",
            Action::RecordAssessment => "recording an assessment",
            Action::LogContact => "logging a contact",
            Action::RequestReview => "requesting a case review",
            Action::RecordCaseReview => "recording a case review",
            Action::RecordTreatmentChange => "recording a treatment change",
            Action::ChangeStatus => "changing an episode's status",
            Action::MarkEnteredInError => "marking an entry entered in error",
            Action::ManageTeam => "adding or changing team members",
            Action::ManageAccounts => "setting another member's password or unlocking an account",
            Action::ChangeSettings => "changing practice settings",
            Action::ChangeBillingRules => "changing billing rules",
            Action::Export => "exporting registry data",
            Action::Import => "importing records from a file",
            Action::ReadAuditLog => "reading the audit log",
            Action::CorrectPrimaryScale => "correcting an episode's primary scale",
            Action::ManageOwnSecondFactor => "setting up one's own second factor",
            Action::ChangeBillingProgram => "changing a patient's billing program or APCM months",
            Action::RecordDiagnosis => "recording a diagnosis",
            Action::StateReport => "running a state report",
            Action::SendQuestionnaire => "sending or cancelling a patient questionnaire",
            Action::ReviewAnswers => "marking patient-reported answers reviewed",
            Action::AnswerQuestionnaire => "answering a questionnaire link",
        }
    }
}

/// The role matrix. A practice lead may do everything; the others what their work needs.
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    if role == Role::Kiosk {
        return action == AnswerQuestionnaire; // a link or a tablet: the answers, nothing else
    }
    if action == ManageOwnSecondFactor || action == ReviewAnswers {
        return true; // every member sets up their own; anyone on the team may review answers
    }
    if action == AnswerQuestionnaire {
        return false; // only a respondent answers, never a member in their name
    }
    match role {
        Role::PracticeLead => true,
        Role::Kiosk => false,
        Role::CareManager => matches!(
            action,
            AddPatient
                | EditPatient
                | Enrol
                | RecordConsent
                | RecordAssessment
                | LogContact
                | RequestReview
                | RecordTreatmentChange
                | ChangeStatus
                | MarkEnteredInError
                | RecordDiagnosis
                | StateReport
                | SendQuestionnaire
        ),
        Role::PsychiatricConsultant => {
            matches!(action, RecordCaseReview | RequestReview | RecordAssessment | MarkEnteredInError | RecordDiagnosis)
        }
        Role::Pcp => matches!(action, RequestReview | RecordTreatmentChange | RecordAssessment | MarkEnteredInError | RecordDiagnosis),
    }
}

/// Refuses `action` unless the actor's role allows it.
pub fn require(actor: &Actor, action: Action) -> Result<()> {
    if allowed(actor.role, action) { Ok(()) } else { Err(refusal(actor, action, "")) }
}

/// A care manager logs contacts in their own name; a practice lead may log one for anyone.
pub(crate) fn require_own_name(actor: &Actor, by_member_id: &str, action: Action) -> Result<()> {
    if actor.role == Role::PracticeLead || actor.member_id == by_member_id {
        Ok(())
    } else {
        Err(refusal(actor, action, " in another member's name"))
    }
}

/// An entry is marked entered in error by the member who entered it, or by a practice lead.
/// `author` is the member id the audit log records as having entered it (None if unknown).
pub(crate) fn require_author_or_lead(actor: &Actor, author: Option<&str>) -> Result<()> {
    if actor.role == Role::PracticeLead || author == Some(actor.member_id.as_str()) {
        Ok(())
    } else {
        Err(Error::PermissionDenied(format!(
            "an entry is marked entered in error by the member who entered it or by a practice lead; {} did not enter it",
            actor.name
        )))
    }
}

fn refusal(actor: &Actor, action: Action, qualifier: &str) -> Error {
    let allowed_to: Vec<&str> = Role::ALL.iter().filter(|r| allowed(**r, action)).map(|r| r.as_str()).collect();
    Error::PermissionDenied(format!(
        "{}{qualifier} is for a {}; {} is a {}",
        action.description(),
        allowed_to.join(" or "),
        actor.name,
        actor.role
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_may_request_a_review_and_record_an_assessment() {
        for role in Role::ALL.iter().filter(|r| **r != Role::Kiosk) {
            assert!(allowed(*role, Action::RequestReview), "{role}");
            assert!(allowed(*role, Action::RecordAssessment), "{role}");
        }
    }

    #[test]
    fn a_kiosk_may_only_answer_questionnaires() {
        for action in Action::ALL {
            assert_eq!(allowed(Role::Kiosk, *action), *action == Action::AnswerQuestionnaire, "{action}");
        }
        // Nor does a member answer in a patient's name, not even a lead.
        assert!(Role::ALL.iter().filter(|r| **r != Role::Kiosk).all(|r| !allowed(*r, Action::AnswerQuestionnaire)));
    }

    #[test]
    fn a_refusal_names_who_may() {
        let actor = Actor::new("m1", "Dr Lee", Role::PsychiatricConsultant);
        let e = require(&actor, Action::ChangeSettings).unwrap_err();
        assert_eq!(e.to_string(), "changing practice settings is for a practice-lead; Dr Lee is a psychiatric-consultant");
    }
}
