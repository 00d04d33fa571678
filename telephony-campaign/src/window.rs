//! Calling windows: the hours a contact may be called, in the contact's own time zone.

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use jiff::civil::{DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}; expected an IANA name such as America/New_York")]
pub struct UnknownZone(pub String);

/// A calling window that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid calling window {input:?}: {reason}")]
pub struct InvalidWindow {
    input: String,
    reason: &'static str,
}

/// The hours calls may be placed, on the days they may be, read in the callee's local time:
/// `start` inclusive, `end` exclusive, `start` before `end`.
///
/// ```
/// use telephony_campaign::CallingWindow;
///
/// let window: CallingWindow = "09:00-20:00".parse()?;
/// let weekdays = window.clone().weekdays_only();
/// assert_eq!(window.to_string(), "09:00-20:00");
/// assert_eq!(weekdays.to_string(), "09:00-20:00 mon-fri");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallingWindow {
    start: Time,
    end: Time,
    /// Bit `n` set: weekday `n` (Monday 0) is open.
    days: u8,
}

const EVERY_DAY: u8 = 0b111_1111;
const WEEKDAYS: u8 = 0b001_1111;

impl CallingWindow {
    /// Every day from `start` to `end` (hours and minutes, local time).
    pub fn new(start: (i8, i8), end: (i8, i8)) -> Result<CallingWindow, InvalidWindow> {
        let input = format!("{:02}:{:02}-{:02}:{:02}", start.0, start.1, end.0, end.1);
        let time = |(h, m): (i8, i8)| {
            if (h, m) == (24, 0) {
                Ok(Time::MAX)
            } else {
                Time::new(h, m, 0, 0).map_err(|_| InvalidWindow {
                    input: input.clone(),
                    reason: "hours are 00 to 24, minutes 00 to 59",
                })
            }
        };
        let (start, end) = (time(start)?, time(end)?);
        if start >= end {
            return Err(InvalidWindow {
                input,
                reason: "the window must start before it ends, within one day",
            });
        }
        Ok(CallingWindow {
            start,
            end,
            days: EVERY_DAY,
        })
    }

    /// Open all day, every day: no window.
    pub fn always() -> CallingWindow {
        CallingWindow {
            start: Time::MIN,
            end: Time::MAX,
            days: EVERY_DAY,
        }
    }

    /// Open Monday to Friday only.
    pub fn weekdays_only(mut self) -> CallingWindow {
        self.days = WEEKDAYS;
        self
    }

    /// Open on `days` only.
    pub fn days(mut self, days: &[Weekday]) -> CallingWindow {
        self.days = days
            .iter()
            .fold(0, |m, d| m | 1 << d.to_monday_zero_offset());
        self
    }

    fn open_on(&self, day: Weekday) -> bool {
        self.days & (1 << day.to_monday_zero_offset()) != 0
    }

    /// Whether a call may be placed at `at` in `zone`.
    pub fn is_open(&self, at: SystemTime, zone: &TimeZone) -> bool {
        let Ok(ts) = Timestamp::try_from(at) else {
            return false;
        };
        let local = ts.to_zoned_datetime(zone.clone());
        self.contains(&local)
    }

    fn contains(&self, local: &ZonedDateTime) -> bool {
        let t = local.time();
        self.open_on(local.weekday()) && t >= self.start && (t < self.end || self.end == Time::MAX)
    }

    /// The first moment at or after `at` when the window is open in `zone`: `at` itself when
    /// it is open now, `None` when it never opens (no day is open).
    pub fn next_open(&self, at: SystemTime, zone: &TimeZone) -> Option<SystemTime> {
        if self.days == 0 {
            return None;
        }
        let ts = Timestamp::try_from(at).ok()?;
        let local = ts.to_zoned_datetime(zone.clone());
        if self.contains(&local) {
            return Some(at);
        }
        let mut date = local.date();
        // A week and a day covers every open weekday; a DST gap at the start time resolves
        // forward (the first valid instant after it).
        for _ in 0..9 {
            let opens = DateTime::from_parts(date, self.start)
                .to_zoned_datetime(zone.clone())
                .ok()?;
            if opens.timestamp() > ts && self.open_on(date.weekday()) {
                return Some(system_time(opens.timestamp()));
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

impl FromStr for CallingWindow {
    type Err = InvalidWindow;

    /// `HH:MM-HH:MM`, optionally followed by days: `mon-fri`, `weekdays`, `sat,sun`.
    fn from_str(s: &str) -> Result<CallingWindow, InvalidWindow> {
        let invalid = |reason| InvalidWindow {
            input: s.to_owned(),
            reason,
        };
        let mut parts = s.split_whitespace();
        let hours = parts
            .next()
            .ok_or_else(|| invalid("expected HH:MM-HH:MM"))?;
        let (a, b) = hours
            .split_once('-')
            .ok_or_else(|| invalid("expected HH:MM-HH:MM"))?;
        let hm = |t: &str| -> Result<(i8, i8), InvalidWindow> {
            let (h, m) = t
                .split_once(':')
                .ok_or_else(|| invalid("expected HH:MM-HH:MM"))?;
            let h = h.parse().map_err(|_| invalid("expected HH:MM-HH:MM"))?;
            let m = m.parse().map_err(|_| invalid("expected HH:MM-HH:MM"))?;
            Ok((h, m))
        };
        let mut window = CallingWindow::new(hm(a)?, hm(b)?).map_err(|e| InvalidWindow {
            input: s.to_owned(),
            reason: e.reason,
        })?;
        if let Some(days) = parts.next() {
            window.days = parse_days(days).ok_or_else(|| {
                invalid("days are mon..sun, as a range (mon-fri), a list (sat,sun) or weekdays")
            })?;
        }
        if parts.next().is_some() {
            return Err(invalid("expected HH:MM-HH:MM and optional days"));
        }
        Ok(window)
    }
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_days(s: &str) -> Option<u8> {
    let day = |d: &str| DAY_NAMES.iter().position(|n| d.eq_ignore_ascii_case(n));
    match s.to_ascii_lowercase().as_str() {
        "weekdays" => return Some(WEEKDAYS),
        "daily" | "every-day" => return Some(EVERY_DAY),
        _ => {}
    }
    let mut mask = 0u8;
    for part in s.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (day(a)?, day(b)?);
            if a > b {
                return None;
            }
            (a..=b).for_each(|d| mask |= 1 << d);
        } else {
            mask |= 1 << day(part)?;
        }
    }
    Some(mask)
}

impl fmt::Display for CallingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == Time::MAX {
            "24:00".to_owned()
        } else {
            format!("{:02}:{:02}", self.end.hour(), self.end.minute())
        };
        write!(
            f,
            "{:02}:{:02}-{end}",
            self.start.hour(),
            self.start.minute()
        )?;
        match self.days {
            EVERY_DAY => Ok(()),
            WEEKDAYS => f.write_str(" mon-fri"),
            days => {
                let names: Vec<_> = (0..7)
                    .filter(|d| days & (1 << d) != 0)
                    .map(|d| DAY_NAMES[d])
                    .collect();
                write!(f, " {}", names.join(","))
            }
        }
    }
}

/// The same instant as a `SystemTime`.
fn system_time(ts: Timestamp) -> SystemTime {
    let nanos = ts.as_nanosecond();
    let magnitude =
        std::time::Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX));
    if nanos >= 0 {
        SystemTime::UNIX_EPOCH + magnitude
    } else {
        SystemTime::UNIX_EPOCH - magnitude
    }
}

/// Looks up an IANA zone in the database compiled into the crate.
pub fn zone(name: &str) -> Result<TimeZone, UnknownZone> {
    if name.eq_ignore_ascii_case("utc") {
        return Ok(TimeZone::UTC);
    }
    TimeZone::get(name).map_err(|_| UnknownZone(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SystemTime {
        system_time(s.parse::<Timestamp>().unwrap())
    }

    #[test]
    fn open_hours_are_read_in_the_callees_zone() {
        let w: CallingWindow = "09:00-20:00".parse().unwrap();
        let ny = zone("America/New_York").unwrap();
        let tokyo = zone("Asia/Tokyo").unwrap();
        // 14:00 UTC on a Wednesday is 09:00 in New York (EST) and 23:00 in Tokyo.
        let t = at("2026-12-02T14:00:00Z");
        assert!(w.is_open(t, &ny));
        assert!(!w.is_open(t, &tokyo));
        // Tokyo opens at 09:00 local, 00:00 UTC next day.
        assert_eq!(w.next_open(t, &tokyo), Some(at("2026-12-03T00:00:00Z")));
        // The end is exclusive.
        assert!(!w.is_open(at("2026-12-03T01:00:00Z"), &ny));
    }

    #[test]
    fn closed_days_are_skipped_and_dst_is_followed() {
        let w: CallingWindow = "09:00-17:30 mon-fri".parse().unwrap();
        let paris = zone("Europe/Paris").unwrap();
        // Saturday 2027-03-27 10:00 UTC: the next open moment is Monday 09:00 Paris, which is
        // CEST (UTC+2) after the change of the night of the 28th.
        let sat = at("2027-03-27T10:00:00Z");
        assert!(!w.is_open(sat, &paris));
        assert_eq!(w.next_open(sat, &paris), Some(at("2027-03-29T07:00:00Z")));
    }

    #[test]
    fn bad_windows_and_zones_are_refused() {
        for bad in [
            "",
            "9-5",
            "20:00-09:00",
            "09:00-25:00",
            "09:60-10:00",
            "09:00-10:00 funday",
            "09:00-10:00 fri-mon",
        ] {
            assert!(bad.parse::<CallingWindow>().is_err(), "{bad}");
        }
        assert!(zone("Mars/Olympus").is_err());
        assert_eq!(
            "00:00-24:00".parse::<CallingWindow>().unwrap(),
            CallingWindow::always()
        );
        let w: CallingWindow = "10:00-12:00 sat,sun".parse().unwrap();
        assert_eq!(w.to_string(), "10:00-12:00 sat,sun");
        assert_eq!(
            w.days(&[]).next_open(SystemTime::now(), &TimeZone::UTC),
            None
        );
    }
}
