//! Reading the fields the registry keeps out of FHIR resources as EHRs (and this registry's
//! export) write them: references, dates, codings, names, MRNs, payers, an episode's status
//! history and a consult note's recommendations. Used by `import`.

use base64ct::{Base64, Encoding};
use serde_json::Value;

use super::resources::{Recommendations, payer_typology};
use super::*;
use crate::dates::{self, Date};
use crate::instruments::Instrument;
use crate::vocab::{DischargeReason, EpisodeStatus, Payer};

/// The id a reference names, when it names a resource of `kind` (`Patient/abc` → `abc`).
pub(super) fn reference_id(reference: &Value, kind: &str) -> Option<String> {
    let r = reference["reference"].as_str()?;
    let id = r.rsplit_once('/').filter(|(k, _)| k.ends_with(kind)).map(|(_, id)| id)?;
    Some(id.to_string())
}

pub(super) fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The date part of a FHIR date or dateTime, as the source wrote it.
pub(super) fn date_of(value: &Value) -> Option<Date> {
    let s = value.as_str()?;
    dates::parse_iso(s.get(..10)?)
}

/// Each coding of a CodeableConcept as (system, code).
pub(super) fn codings(concept: &Value) -> impl Iterator<Item = (String, String)> + '_ {
    concept["coding"].as_array().into_iter().flatten().map(|c| (text(&c["system"]), text(&c["code"])))
}

pub(super) fn extension<'v>(resource: &'v Value, url: &str) -> Option<&'v Value> {
    resource["extension"].as_array()?.iter().find(|e| e["url"] == url)
}

/// The instrument of a panel or total code (any catalogue instrument), and whether the code
/// is the total's.
pub(super) fn instrument_of(code: &str) -> Option<(Instrument, bool)> {
    Instrument::of_code(code)
}

/// A person's name as the registry keeps it: the text, else prefix, given and family names.
pub(super) fn person_name(resource: &Value) -> Option<String> {
    let name = resource["name"].as_array()?.first()?;
    if let Some(t) = name["text"].as_str().filter(|t| !t.trim().is_empty()) {
        return Some(t.trim().to_string());
    }
    let mut words: Vec<&str> = Vec::new();
    for part in ["prefix", "given"] {
        words.extend(name[part].as_array().into_iter().flatten().filter_map(Value::as_str));
    }
    words.extend(name["family"].as_str());
    (!words.is_empty()).then(|| words.join(" "))
}

/// The MRN: the identifier typed MR (v2-0203), else the registry's own MRN system.
pub(super) fn mrn(patient: &Value) -> Option<String> {
    let ids = patient["identifier"].as_array()?;
    let typed = ids.iter().find(|i| codings(&i["type"]).any(|(_, c)| c == "MR"));
    let ours = ids.iter().find(|i| i["system"] == MRN_SYSTEM);
    typed.or(ours)?["value"].as_str().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// A Coverage's payer: the registry's spelling in `type.text`, else the payer typology code.
pub(super) fn payer(coverage: &Value) -> Payer {
    if let Ok(p) = Payer::parse("payer", coverage["type"]["text"].as_str().unwrap_or_default()) {
        return p;
    }
    let code = codings(&coverage["type"]).find(|(s, _)| s == PAYER_TYPOLOGY).map(|(_, c)| c).unwrap_or_default();
    Payer::ALL.iter().copied().find(|p| payer_typology(*p).0 == code).unwrap_or(Payer::Other)
}

/// An episode's statuses with their dates: the registry's own status (extension) where given,
/// else FHIR's (`finished` is a discharge).
pub(super) fn status_history(episode: &Value) -> Vec<(Date, EpisodeStatus, Option<DischargeReason>)> {
    let mut history: Vec<(Date, EpisodeStatus, Option<DischargeReason>)> = episode["statusHistory"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| {
            let date = date_of(&h["period"]["start"])?;
            let ours =
                extension(h, EXT_EPISODE_STATUS).and_then(|e| e["valueCode"].as_str()).and_then(|s| EpisodeStatus::parse("status", s).ok());
            let status = ours.or(match h["status"].as_str()? {
                "active" => Some(EpisodeStatus::Active),
                "finished" => Some(EpisodeStatus::Discharged),
                _ => None,
            })?;
            let reason = extension(h, EXT_DISCHARGE_REASON)
                .and_then(|e| e["valueCode"].as_str())
                .and_then(|s| DischargeReason::parse("reason", s).ok());
            let reason = (status == EpisodeStatus::Discharged).then(|| reason.unwrap_or(DischargeReason::Other));
            Some((date, status, reason))
        })
        .collect();
    history.sort_by_key(|(d, _, _)| *d);
    let discharged = history.iter().any(|(_, s, _)| *s == EpisodeStatus::Discharged);
    if let Some(end) = date_of(&episode["period"]["end"]).filter(|_| episode["status"] == "finished" && !discharged) {
        history.push((end, EpisodeStatus::Discharged, Some(DischargeReason::Other)));
    }
    history
}

/// A consult note's recommendations: the JSON attachment this registry writes, else the text
/// attachment as the note.
pub(super) fn recommendations(document: &Value) -> Recommendations {
    let attachments: Vec<&Value> = document["content"].as_array().into_iter().flatten().map(|c| &c["attachment"]).collect();
    let decoded = |a: &Value| a["data"].as_str().and_then(|d| Base64::decode_vec(d).ok()).and_then(|b| String::from_utf8(b).ok());
    if let Some(rec) = attachments
        .iter()
        .filter(|a| a["contentType"].as_str().is_some_and(|t| t.starts_with("application/json")))
        .find_map(|a| serde_json::from_str::<Recommendations>(&decoded(a)?).ok())
    {
        return rec;
    }
    let note = attachments.iter().find(|a| a["contentType"].as_str().is_some_and(|t| t.starts_with("text/"))).and_then(|a| decoded(a));
    Recommendations { note: note.unwrap_or_default(), ..Default::default() }
}
