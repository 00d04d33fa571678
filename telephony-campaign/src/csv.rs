//! Contacts files in, results out.
//!
//! A contacts file has a header row. The `number` column holds the E.164 number, an optional
//! `timezone` column an IANA zone, and every other column becomes a variable the call's
//! stream receives as a parameter. A row that does not read is reported with its line
//! number; the others are kept.

use std::io;

use telephony_core::E164;

use crate::Contact;
use crate::store::ContactResult;
use crate::window::zone;

/// A contacts row that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// A contacts file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContactsError {
    /// Reading failed.
    #[error("reading the contacts: {0}")]
    Io(#[from] io::Error),
    /// The header has no `number` column.
    #[error("the contacts file's header has no `number` column (it has: {0})")]
    NoNumberColumn(String),
    /// The header does not read.
    #[error("the contacts file's header: {0}")]
    Header(String),
}

/// What a contacts file held: the contacts that read, in order, each number once, and the
/// rows that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// The contacts.
    pub contacts: Vec<Contact>,
    /// The rows left out.
    pub errors: Vec<RowError>,
}

/// Reads a contacts file (see the [module](self)). Numbers are read leniently (`+1 (415)
/// 555-0100` is `+14155550100`); a number listed again is reported and its later rows left
/// out.
pub fn read_contacts(reader: impl io::Read) -> Result<Contacts, ContactsError> {
    let mut csv = ::csv::ReaderBuilder::new()
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| ContactsError::Header(e.to_string()))?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let column = |wanted: &str| names.iter().position(|h| h.eq_ignore_ascii_case(wanted));
    let number_at =
        column("number").ok_or_else(|| ContactsError::NoNumberColumn(names.join(", ")))?;
    let zone_at = column("timezone");
    let mut out = Contacts::default();
    let mut seen = std::collections::HashSet::new();
    for record in csv.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                if let ::csv::ErrorKind::Io(_) = e.kind() {
                    return Err(ContactsError::Io(io::Error::other(e.to_string())));
                }
                out.errors.push(RowError {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, ::csv::Position::line);
        let fail = |reason: String| RowError { line, reason };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != names.len() {
            out.errors.push(fail(format!(
                "{} fields where the header has {}",
                record.len(),
                names.len()
            )));
            continue;
        }
        let raw = record.get(number_at).unwrap_or_default();
        let number = match international(raw) {
            Ok(n) => n,
            Err(e) => {
                out.errors.push(fail(e));
                continue;
            }
        };
        let time_zone = match zone_at
            .and_then(|i| record.get(i))
            .filter(|z| !z.is_empty())
        {
            Some(z) => match zone(z) {
                Ok(_) => Some(z.to_owned()),
                Err(e) => {
                    out.errors.push(fail(e.to_string()));
                    continue;
                }
            },
            None => None,
        };
        if !seen.insert(number.clone()) {
            out.errors.push(fail(format!(
                "{number} is listed already; a contact is called once"
            )));
            continue;
        }
        let mut contact = Contact::new(number);
        contact.time_zone = time_zone;
        for (i, value) in record.iter().enumerate() {
            if i != number_at && Some(i) != zone_at {
                contact.vars.push((names[i].clone(), value.to_owned()));
            }
        }
        out.contacts.push(contact);
    }
    Ok(out)
}

/// A number written with its country code (`+1 415 555 0100`, `+1-415-555-0100`,
/// `0044 20 7183 8750`), as E.164. A number without one (`(415) 555-0100`) is refused: read
/// as digits it would be another country's number, and the wrong person would be called.
fn international(raw: &str) -> Result<E164, String> {
    let trimmed = raw.trim();
    let with_plus = if let Some(rest) = trimmed.strip_prefix("00") {
        format!("+{rest}")
    } else if trimmed.starts_with('+') {
        trimmed.to_owned()
    } else {
        return Err(format!(
            "{trimmed:?} has no country code: write it in international form, starting with + (+1 415 555 0100)"
        ));
    };
    E164::parse_lenient(&with_plus).map_err(|e| e.to_string())
}

/// The results' columns.
pub const RESULT_COLUMNS: [&str; 10] = [
    "number",
    "status",
    "outcome",
    "attempts",
    "call_id",
    "duration_secs",
    "cost",
    "recording_url",
    "ended_at",
    "detail",
];

/// Writes one row per contact: where it stands (`pending`, `claimed`, `done`), its final (or
/// latest) outcome, attempts, the last call's id, duration, cost and recording URL where
/// known, when it ended (RFC 3339, UTC), and why, where the outcome needs explaining.
pub fn write_results(writer: impl io::Write, results: &[ContactResult]) -> io::Result<()> {
    let mut csv = ::csv::Writer::from_writer(writer);
    csv.write_record(RESULT_COLUMNS)?;
    for r in results {
        let last = r.last.as_ref();
        let status = match r.status {
            crate::store::ContactStatus::Pending => "pending",
            crate::store::ContactStatus::Claimed => "in_progress",
            crate::store::ContactStatus::Done => "done",
        };
        let ended = last
            .map(|l| {
                jiff::Timestamp::from_millisecond(i64::try_from(l.ended_ms).unwrap_or(0))
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        csv.write_record([
            r.contact.number.as_str(),
            status,
            last.map_or("", |l| l.outcome.as_str()),
            &r.attempts.to_string(),
            last.and_then(|l| l.call_id.as_deref()).unwrap_or(""),
            &last
                .and_then(|l| l.duration_secs)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            last.and_then(|l| l.cost.as_deref()).unwrap_or(""),
            last.and_then(|l| l.recording_url.as_deref()).unwrap_or(""),
            &ended,
            last.and_then(|l| l.detail.as_deref()).unwrap_or(""),
        ])?;
    }
    csv.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_become_variables_and_bad_rows_are_reported_by_line() {
        let file = "\u{feff}name,number,timezone,order\n\
                    Ada,+14155550100,America/New_York,42\n\
                    Bob,not a number,,7\n\
                    \"Cy, Jr.\",+1 (415) 555-0101,,\"quoted \"\"x\"\"\"\n\
                    Dee,+14155550102,Mars/Base,1\n\
                    Eve,+14155550103\n\
                    Ada again,+14155550100,,43\n\
                    \n\
                    Fay,+14155550104,UTC,9\n";
        let read = read_contacts(file.as_bytes()).unwrap();
        let numbers: Vec<_> = read.contacts.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(numbers, ["+14155550100", "+14155550101", "+14155550104"]);
        assert_eq!(
            read.contacts[0].vars,
            [("name".into(), "Ada".into()), ("order".into(), "42".into())]
        );
        assert_eq!(
            read.contacts[0].time_zone.as_deref(),
            Some("America/New_York")
        );
        assert_eq!(read.contacts[1].vars[1].1, "quoted \"x\"");
        let lines: Vec<_> = read.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 5, 6, 7], "{:?}", read.errors);
        assert!(read.errors[1].reason.contains("Mars/Base"));
    }

    #[test]
    fn a_number_without_its_country_code_is_refused_not_guessed() {
        let file = "number\n(415) 555-0100\n415.555.0101\n14155550102\n0044 20 7183 8750\n+1 415 555 0103\n";
        let read = read_contacts(file.as_bytes()).unwrap();
        let numbers: Vec<_> = read.contacts.iter().map(|c| c.number.as_str()).collect();
        assert_eq!(numbers, ["+442071838750", "+14155550103"]);
        let lines: Vec<_> = read.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(
            read.errors[0].reason.contains("country code"),
            "{:?}",
            read.errors
        );
    }

    #[test]
    fn a_file_without_a_number_column_is_refused() {
        let e = read_contacts("phone,name\n+14155550100,Ada\n".as_bytes()).unwrap_err();
        assert!(e.to_string().contains("phone, name"), "{e}");
        // Not UTF-8, binary garbage: rows reported, no panic.
        let junk = b"number\n\xff\xfe\x00garbage\n+14155550100\n";
        let read = read_contacts(&junk[..]).unwrap();
        assert_eq!(read.contacts.len(), 1);
        assert_eq!(read.errors.len(), 1);
    }
}
