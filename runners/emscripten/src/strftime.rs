//! `strftime` (and `strftime_l`, which ignores its locale) in the C locale, for the `env.strftime`
//! import that emscripten 3.1.6 implements in JS.
//!
//! Every conversion of C99/POSIX that the glue implements is supported, formatted as the glue
//! formats it for in-range fields. Where the glue is buggy this follows C/POSIX instead; the
//! differences are:
//!
//! * the format is parsed left to right, once. The glue substitutes whole-string patterns in
//!   turn, so `%%c` gives a date there (`%c` is expanded before `%%` is protected), `%Ec` gives the
//!   literal `%c`, and a `%Z` whose zone contains `%` is expanded again; here `%%c` is `%c`,
//!   `%Ec` is `%c` expanded, and substituted text is never rescanned;
//! * `%V` of an early-January day in the previous year's last ISO week is 52 or 53 as ISO 8601
//!   says (the glue always prints 53);
//! * `%j`, `%V`, `%G`, `%g` are computed from `tm_yday` and `tm_wday` as C says (the glue
//!   recomputes `%j` from `tm_mon`/`tm_mday`; identical for a normalised `tm`);
//! * `%y`, `%g` are the last two digits of the year, zero-padded, for every year (the glue cuts
//!   the first two characters of the decimal string, right only for years 1000–9999);
//! * `%z` is `±hhmm` (the glue prints `+0580` for an offset of 5 h 30 min);
//! * a weekday or month out of range prints `?` for `%a %A %b %B` (the glue prints `undefined`
//!   or throws).
//!
//! `%U` and `%W` are **the glue's**, bugs included, because the goldens show them: see
//! `glue_week_number` (`%W` of 2023-11-14 is 45 in node, 46 in C).
//!
//! `%c` is the glue's `"%a %b %d %H:%M:%S %Y"` ([`C_DATE_TIME`]): day zero-padded, where C99's C
//! locale says `%e` (space-padded). The runner follows the glue so that its output matches node.
//! Field widths and flags (`%-d`, `%_H`, `%010Y`, POSIX 2008) are not supported, as in the glue:
//! an unknown conversion is copied to the output as it is (`%q` → `%q`), as are the `E` and `O`
//! modifiers before a conversion they do not apply to.

use crate::time::{Tm, days_from_civil, is_leap_year, timegm};
use std::io::Write as _;

/// What `%c` stands for (the glue's expansion; C99 has `%e` in place of `%d`).
pub const C_DATE_TIME: &[u8] = b"%a %b %d %H:%M:%S %Y";

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Formats `tm` by `format` (the bytes of the guest's format string, without its NUL). `zone` is
/// what `%Z` prints: the string at `tm_zone` in the guest, or `""` when that pointer is null.
///
/// The result has no terminating NUL and is not limited in length; see [`strftime_bounded`] for
/// the C contract.
pub fn strftime(format: &[u8], tm: &Tm, zone: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(format.len() * 2);
    format_into(&mut out, format, tm, zone);
    out
}

/// The `strftime(s, maxsize, format, tm)` contract: `Some(bytes)` — the formatted text **followed
/// by its NUL** — if that fits in `maxsize` bytes, else `None`, and the import writes nothing and
/// returns 0 (as the glue: `if (bytes.length > maxsize) return 0`). On `Some`, the import copies the
/// bytes to `s` and returns `bytes.len() - 1`.
pub fn strftime_bounded(format: &[u8], tm: &Tm, zone: &str, maxsize: usize) -> Option<Vec<u8>> {
    let mut out = strftime(format, tm, zone);
    out.push(0);
    (out.len() <= maxsize).then_some(out)
}

fn name(table: &[&'static str], index: i32) -> &'static str {
    usize::try_from(index)
        .ok()
        .and_then(|i| table.get(i))
        .copied()
        .unwrap_or("?")
}

fn abbreviation(table: &[&'static str], index: i32) -> &'static str {
    let full = name(table, index);
    full.get(..3).unwrap_or(full)
}

/// Weekday of 1 January of `tm`'s year (0 = Sunday), from `tm_wday` and `tm_yday`.
fn jan1_wday(tm: &Tm) -> i64 {
    (i64::from(tm.wday) - i64::from(tm.yday)).rem_euclid(7)
}

/// Number of ISO weeks (52 or 53) of `year`, whose 1 January falls on `jan1` (0 = Sunday): 53 when
/// that is a Thursday, or a Wednesday in a leap year.
fn iso_weeks_in_year(year: i64, jan1: i64) -> i64 {
    if jan1 == 4 || (jan1 == 3 && is_leap_year(year)) {
        53
    } else {
        52
    }
}

/// ISO 8601 week-based year and week number (1–53) of `tm`.
fn iso_week(tm: &Tm) -> (i64, i64) {
    let year = tm.full_year();
    let monday_based = (i64::from(tm.wday) + 6).rem_euclid(7);
    let week = (i64::from(tm.yday) - monday_based + 10).div_euclid(7);
    let jan1 = jan1_wday(tm);
    if week < 1 {
        let days_in_previous = if is_leap_year(year - 1) { 366 } else { 365 };
        let previous_jan1 = (jan1 - days_in_previous).rem_euclid(7);
        (year - 1, iso_weeks_in_year(year - 1, previous_jan1))
    } else if week > iso_weeks_in_year(year, jan1) {
        (year + 1, 1)
    } else {
        (year, week)
    }
}

/// `%U` (`weekday` 0, weeks from the first Sunday) and `%W` (`weekday` 1, from the first Monday)
/// exactly as the 3.1.6 glue computes them, because the goldens show its output
/// (`time_strftime`: `%W` of 2023-11-14 is 45, C says 46).
///
/// The glue takes 1 January of `jan1_year` (JS `new Date(jan1_year, 0, 1)`, which reads years
/// 0–99 as 1900–1999; for `%W` it passes `tm_year` without adding 1900), finds the first
/// `weekday` on or after it (day `first` of January), builds `end` = `new Date(tm_year + 1900,
/// tm_mon, tm_mday)` (normalised like `timegm`), and returns `ceil((yday(end) + 1 - first) / 7)`
/// if that first weekday is before `end`, else 1 if it is 1 January, else 0. `tm_wday` and
/// `tm_yday` are not used.
fn glue_week_number(tm: &Tm, jan1_year: i64, weekday: i64) -> i64 {
    let jan1_year = if (0..=99).contains(&jan1_year) {
        jan1_year + 1900
    } else {
        jan1_year
    };
    let jan1_wday = (days_from_civil(jan1_year, 1, 1) + 4).rem_euclid(7);
    let first = 1 + (weekday - jan1_wday).rem_euclid(7);
    let mut end = Tm {
        year: tm.year,
        mon: tm.mon,
        mday: tm.mday,
        ..Tm::default()
    };
    if timegm(&mut end).is_none() {
        return 0;
    }
    let first_is_before_end =
        (jan1_year, 0, first) < (end.full_year(), end.mon, i64::from(end.mday));
    if first_is_before_end {
        let days = (i64::from(end.yday) + 1 - first).max(0);
        (days + 6) / 7
    } else if first == 1 {
        1
    } else {
        0
    }
}

fn format_into(out: &mut Vec<u8>, format: &[u8], tm: &Tm, zone: &str) {
    let mut i = 0;
    while i < format.len() {
        let byte = format[i];
        i += 1;
        if byte != b'%' {
            out.push(byte);
            continue;
        }
        let Some(&spec) = format.get(i) else {
            out.push(b'%');
            break;
        };
        let modifier_applies = match spec {
            b'E' => format.get(i + 1).is_some_and(|c| b"cCxXyY".contains(c)),
            b'O' => format
                .get(i + 1)
                .is_some_and(|c| b"deHImMSuUVwWy".contains(c)),
            _ => false,
        };
        let conversion = if modifier_applies {
            i += 1;
            format[i]
        } else {
            spec
        };
        if convert(out, conversion, tm, zone) {
            i += 1;
        } else {
            // Unknown conversion (or a modifier that does not apply): copy the `%`; the rest is
            // copied as ordinary text.
            out.push(b'%');
        }
    }
}

/// Appends conversion `%<spec>`; false if `spec` is not a conversion.
fn convert(out: &mut Vec<u8>, spec: u8, tm: &Tm, zone: &str) -> bool {
    // Writing to a Vec cannot fail.
    let _ = match spec {
        b'a' => write!(out, "{}", abbreviation(&WEEKDAYS, tm.wday)),
        b'A' => write!(out, "{}", name(&WEEKDAYS, tm.wday)),
        b'b' | b'h' => write!(out, "{}", abbreviation(&MONTHS, tm.mon)),
        b'B' => write!(out, "{}", name(&MONTHS, tm.mon)),
        b'c' => {
            format_into(out, C_DATE_TIME, tm, zone);
            Ok(())
        }
        b'C' => write!(out, "{:02}", tm.full_year() / 100),
        b'd' => write!(out, "{:02}", tm.mday),
        b'D' | b'x' => {
            format_into(out, b"%m/%d/%y", tm, zone);
            Ok(())
        }
        b'e' => write!(out, "{:>2}", tm.mday),
        b'F' => {
            format_into(out, b"%Y-%m-%d", tm, zone);
            Ok(())
        }
        b'g' => write!(out, "{:02}", iso_week(tm).0.rem_euclid(100)),
        b'G' => write!(out, "{}", iso_week(tm).0),
        b'H' => write!(out, "{:02}", tm.hour),
        b'I' => {
            let hour = tm.hour.rem_euclid(12);
            write!(out, "{:02}", if hour == 0 { 12 } else { hour })
        }
        b'j' => write!(out, "{:03}", i64::from(tm.yday) + 1),
        b'm' => write!(out, "{:02}", i64::from(tm.mon) + 1),
        b'M' => write!(out, "{:02}", tm.min),
        b'n' => {
            out.push(b'\n');
            Ok(())
        }
        b'p' => write!(
            out,
            "{}",
            if (0..12).contains(&tm.hour) {
                "AM"
            } else {
                "PM"
            }
        ),
        b'r' => {
            format_into(out, b"%I:%M:%S %p", tm, zone);
            Ok(())
        }
        b'R' => {
            format_into(out, b"%H:%M", tm, zone);
            Ok(())
        }
        b'S' => write!(out, "{:02}", tm.sec),
        b't' => write!(out, "\t"),
        b'T' | b'X' => {
            format_into(out, b"%H:%M:%S", tm, zone);
            Ok(())
        }
        b'u' => write!(out, "{}", if tm.wday == 0 { 7 } else { tm.wday }),
        b'U' => write!(out, "{:02}", glue_week_number(tm, tm.full_year(), 0)),
        b'V' => write!(out, "{:02}", iso_week(tm).1),
        b'w' => write!(out, "{}", tm.wday),
        b'W' => write!(out, "{:02}", glue_week_number(tm, i64::from(tm.year), 1)),
        b'y' => write!(out, "{:02}", tm.full_year().rem_euclid(100)),
        b'Y' => write!(out, "{}", tm.full_year()),
        b'z' => {
            let offset = i64::from(tm.gmtoff);
            let minutes = offset.abs() / 60;
            let sign = if offset >= 0 { '+' } else { '-' };
            write!(out, "{sign}{:02}{:02}", minutes / 60, minutes % 60)
        }
        b'Z' => write!(out, "{zone}"),
        b'%' => write!(out, "%"),
        _ => return false,
    };
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::gmtime;

    fn at(t: i64) -> Tm {
        gmtime(t).expect("in range")
    }

    fn fmt(format: &str, tm: &Tm) -> String {
        String::from_utf8(strftime(format.as_bytes(), tm, "GMT")).expect("UTF-8")
    }

    /// Every conversion but `%c %n %t %z %Z %%` `%U` `%W` for a table of dates around ISO-year boundaries,
    /// expected values from Python 3's `time.strftime` (glibc, C locale, `TZ=UTC`) on
    /// `time.gmtime(t)`, pasted here.
    const ALL: &str =
        "%a %A %b %B %C %d %D %e %F %g %G %h %H %I %j %m %M %p %r %R %S %T %u %V %w %x %X %y %Y";

    const TABLE: &[(i64, &str)] = &[
        (
            1104195723,
            "Tue Tuesday Dec December 20 28 12/28/04 28 2004-12-28 04 2004 Dec 01 01 363 12 02 AM 01:02:03 AM 01:02 03 01:02:03 2 53 2 12/28/04 01:02:03 04 2004",
        ),
        (
            1104282123,
            "Wed Wednesday Dec December 20 29 12/29/04 29 2004-12-29 04 2004 Dec 01 01 364 12 02 AM 01:02:03 AM 01:02 03 01:02:03 3 53 3 12/29/04 01:02:03 04 2004",
        ),
        (
            1104368523,
            "Thu Thursday Dec December 20 30 12/30/04 30 2004-12-30 04 2004 Dec 01 01 365 12 02 AM 01:02:03 AM 01:02 03 01:02:03 4 53 4 12/30/04 01:02:03 04 2004",
        ),
        (
            1104454923,
            "Fri Friday Dec December 20 31 12/31/04 31 2004-12-31 04 2004 Dec 01 01 366 12 02 AM 01:02:03 AM 01:02 03 01:02:03 5 53 5 12/31/04 01:02:03 04 2004",
        ),
        (
            1104584645,
            "Sat Saturday Jan January 20 01 01/01/05  1 2005-01-01 04 2004 Jan 13 01 001 01 04 PM 01:04:05 PM 13:04 05 13:04:05 6 53 6 01/01/05 13:04:05 05 2005",
        ),
        (
            1104671045,
            "Sun Sunday Jan January 20 02 01/02/05  2 2005-01-02 04 2004 Jan 13 01 002 01 04 PM 01:04:05 PM 13:04 05 13:04:05 7 53 0 01/02/05 13:04:05 05 2005",
        ),
        (
            1104757445,
            "Mon Monday Jan January 20 03 01/03/05  3 2005-01-03 05 2005 Jan 13 01 003 01 04 PM 01:04:05 PM 13:04 05 13:04:05 1 01 1 01/03/05 13:04:05 05 2005",
        ),
        (
            1104843845,
            "Tue Tuesday Jan January 20 04 01/04/05  4 2005-01-04 05 2005 Jan 13 01 004 01 04 PM 01:04:05 PM 13:04 05 13:04:05 2 01 2 01/04/05 13:04:05 05 2005",
        ),
        (
            1135987200,
            "Sat Saturday Dec December 20 31 12/31/05 31 2005-12-31 05 2005 Dec 00 12 365 12 00 AM 12:00:00 AM 00:00 00 00:00:00 6 52 6 12/31/05 00:00:00 05 2005",
        ),
        (
            1136116800,
            "Sun Sunday Jan January 20 01 01/01/06  1 2006-01-01 05 2005 Jan 12 12 001 01 00 PM 12:00:00 PM 12:00 00 12:00:00 7 52 0 01/01/06 12:00:00 06 2006",
        ),
        (
            1136246399,
            "Mon Monday Jan January 20 02 01/02/06  2 2006-01-02 06 2006 Jan 23 11 002 01 59 PM 11:59:59 PM 23:59 59 23:59:59 1 01 1 01/02/06 23:59:59 06 2006",
        ),
        (
            1230465599,
            "Sun Sunday Dec December 20 28 12/28/08 28 2008-12-28 08 2008 Dec 11 11 363 12 59 AM 11:59:59 AM 11:59 59 11:59:59 7 52 0 12/28/08 11:59:59 08 2008",
        ),
        (
            1230551999,
            "Mon Monday Dec December 20 29 12/29/08 29 2008-12-29 09 2009 Dec 11 11 364 12 59 AM 11:59:59 AM 11:59 59 11:59:59 1 01 1 12/29/08 11:59:59 08 2008",
        ),
        (
            1230638399,
            "Tue Tuesday Dec December 20 30 12/30/08 30 2008-12-30 09 2009 Dec 11 11 365 12 59 AM 11:59:59 AM 11:59 59 11:59:59 2 01 2 12/30/08 11:59:59 08 2008",
        ),
        (
            1230724799,
            "Wed Wednesday Dec December 20 31 12/31/08 31 2008-12-31 09 2009 Dec 11 11 366 12 59 AM 11:59:59 AM 11:59 59 11:59:59 3 01 3 12/31/08 11:59:59 08 2008",
        ),
        (
            1230768000,
            "Thu Thursday Jan January 20 01 01/01/09  1 2009-01-01 09 2009 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 4 01 4 01/01/09 00:00:00 09 2009",
        ),
        (
            1262217600,
            "Thu Thursday Dec December 20 31 12/31/09 31 2009-12-31 09 2009 Dec 00 12 365 12 00 AM 12:00:00 AM 00:00 00 00:00:00 4 53 4 12/31/09 00:00:00 09 2009",
        ),
        (
            1262304000,
            "Fri Friday Jan January 20 01 01/01/10  1 2010-01-01 09 2009 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 5 53 5 01/01/10 00:00:00 10 2010",
        ),
        (
            1262476800,
            "Sun Sunday Jan January 20 03 01/03/10  3 2010-01-03 09 2009 Jan 00 12 003 01 00 AM 12:00:00 AM 00:00 00 00:00:00 7 53 0 01/03/10 00:00:00 10 2010",
        ),
        (
            1262563200,
            "Mon Monday Jan January 20 04 01/04/10  4 2010-01-04 10 2010 Jan 00 12 004 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/04/10 00:00:00 10 2010",
        ),
        (
            1451520000,
            "Thu Thursday Dec December 20 31 12/31/15 31 2015-12-31 15 2015 Dec 00 12 365 12 00 AM 12:00:00 AM 00:00 00 00:00:00 4 53 4 12/31/15 00:00:00 15 2015",
        ),
        (
            1451606400,
            "Fri Friday Jan January 20 01 01/01/16  1 2016-01-01 15 2015 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 5 53 5 01/01/16 00:00:00 16 2016",
        ),
        (
            1451779200,
            "Sun Sunday Jan January 20 03 01/03/16  3 2016-01-03 15 2015 Jan 00 12 003 01 00 AM 12:00:00 AM 00:00 00 00:00:00 7 53 0 01/03/16 00:00:00 16 2016",
        ),
        (
            1451865600,
            "Mon Monday Jan January 20 04 01/04/16  4 2016-01-04 16 2016 Jan 00 12 004 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/04/16 00:00:00 16 2016",
        ),
        (
            1609372800,
            "Thu Thursday Dec December 20 31 12/31/20 31 2020-12-31 20 2020 Dec 00 12 366 12 00 AM 12:00:00 AM 00:00 00 00:00:00 4 53 4 12/31/20 00:00:00 20 2020",
        ),
        (
            1609459200,
            "Fri Friday Jan January 20 01 01/01/21  1 2021-01-01 20 2020 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 5 53 5 01/01/21 00:00:00 21 2021",
        ),
        (
            1609632000,
            "Sun Sunday Jan January 20 03 01/03/21  3 2021-01-03 20 2020 Jan 00 12 003 01 00 AM 12:00:00 AM 00:00 00 00:00:00 7 53 0 01/03/21 00:00:00 21 2021",
        ),
        (
            1609718400,
            "Mon Monday Jan January 20 04 01/04/21  4 2021-01-04 21 2021 Jan 00 12 004 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/04/21 00:00:00 21 2021",
        ),
        (
            1640908800,
            "Fri Friday Dec December 20 31 12/31/21 31 2021-12-31 21 2021 Dec 00 12 365 12 00 AM 12:00:00 AM 00:00 00 00:00:00 5 52 5 12/31/21 00:00:00 21 2021",
        ),
        (
            1640995200,
            "Sat Saturday Jan January 20 01 01/01/22  1 2022-01-01 21 2021 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 6 52 6 01/01/22 00:00:00 22 2022",
        ),
        (
            1641081600,
            "Sun Sunday Jan January 20 02 01/02/22  2 2022-01-02 21 2021 Jan 00 12 002 01 00 AM 12:00:00 AM 00:00 00 00:00:00 7 52 0 01/02/22 00:00:00 22 2022",
        ),
        (
            1641168000,
            "Mon Monday Jan January 20 03 01/03/22  3 2022-01-03 22 2022 Jan 00 12 003 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/03/22 00:00:00 22 2022",
        ),
        (
            1798416000,
            "Mon Monday Dec December 20 28 12/28/26 28 2026-12-28 26 2026 Dec 00 12 362 12 00 AM 12:00:00 AM 00:00 00 00:00:00 1 53 1 12/28/26 00:00:00 26 2026",
        ),
        (
            1798675200,
            "Thu Thursday Dec December 20 31 12/31/26 31 2026-12-31 26 2026 Dec 00 12 365 12 00 AM 12:00:00 AM 00:00 00 00:00:00 4 53 4 12/31/26 00:00:00 26 2026",
        ),
        (
            1798761600,
            "Fri Friday Jan January 20 01 01/01/27  1 2027-01-01 26 2026 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 5 53 5 01/01/27 00:00:00 27 2027",
        ),
        (
            1798934400,
            "Sun Sunday Jan January 20 03 01/03/27  3 2027-01-03 26 2026 Jan 00 12 003 01 00 AM 12:00:00 AM 00:00 00 00:00:00 7 53 0 01/03/27 00:00:00 27 2027",
        ),
        (
            1799020800,
            "Mon Monday Jan January 20 04 01/04/27  4 2027-01-04 27 2027 Jan 00 12 004 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/04/27 00:00:00 27 2027",
        ),
        (
            0,
            "Thu Thursday Jan January 19 01 01/01/70  1 1970-01-01 70 1970 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 4 01 4 01/01/70 00:00:00 70 1970",
        ),
        (
            -1,
            "Wed Wednesday Dec December 19 31 12/31/69 31 1969-12-31 70 1970 Dec 23 11 365 12 59 PM 11:59:59 PM 23:59 59 23:59:59 3 01 3 12/31/69 23:59:59 69 1969",
        ),
        (
            -2208988800,
            "Mon Monday Jan January 19 01 01/01/00  1 1900-01-01 00 1900 Jan 00 12 001 01 00 AM 12:00:00 AM 00:00 00 00:00:00 1 01 1 01/01/00 00:00:00 00 1900",
        ),
        (
            -2147472000,
            "Sat Saturday Dec December 19 14 12/14/01 14 1901-12-14 01 1901 Dec 00 12 348 12 00 AM 12:00:00 AM 00:00 00 00:00:00 6 50 6 12/14/01 00:00:00 01 1901",
        ),
        (
            951825600,
            "Tue Tuesday Feb February 20 29 02/29/00 29 2000-02-29 00 2000 Feb 12 12 060 02 00 PM 12:00:00 PM 12:00 00 12:00:00 2 09 2 02/29/00 12:00:00 00 2000",
        ),
        (
            978220801,
            "Sun Sunday Dec December 20 31 12/31/00 31 2000-12-31 00 2000 Dec 00 12 366 12 00 AM 12:00:01 AM 00:00 01 00:00:01 7 52 0 12/31/00 00:00:01 00 2000",
        ),
        (
            2147483647,
            "Tue Tuesday Jan January 20 19 01/19/38 19 2038-01-19 38 2038 Jan 03 03 019 01 14 AM 03:14:07 AM 03:14 07 03:14:07 2 03 2 01/19/38 03:14:07 38 2038",
        ),
        (
            1700000000,
            "Tue Tuesday Nov November 20 14 11/14/23 14 2023-11-14 23 2023 Nov 22 10 318 11 13 PM 10:13:20 PM 22:13 20 22:13:20 2 46 2 11/14/23 22:13:20 23 2023",
        ),
        (
            1720053000,
            "Thu Thursday Jul July 20 04 07/04/24  4 2024-07-04 24 2024 Jul 00 12 186 07 30 AM 12:30:00 AM 00:30 00 00:30:00 4 27 4 07/04/24 00:30:00 24 2024",
        ),
        (
            915192000,
            "Fri Friday Jan January 19 01 01/01/99  1 1999-01-01 98 1998 Jan 12 12 001 01 00 PM 12:00:00 PM 12:00 00 12:00:00 5 53 5 01/01/99 12:00:00 99 1999",
        ),
    ];

    /// `%U %W` for the dates of [`TABLE`], as the 3.1.6 glue prints them: its `_strftime`
    /// function run by node (`TZ=UTC`) on `gmtime(t)`, pasted here. (C differs, e.g. `%U` of
    /// 2005-01-02 is 01, `%W` of 2004-12-28 is 52.)
    const GLUE_WEEKS: &[(i64, &str)] = &[
        (1104195723, "52 51"),
        (1104282123, "52 51"),
        (1104368523, "52 52"),
        (1104454923, "52 52"),
        (1104584645, "00 00"),
        (1104671045, "00 00"),
        (1104757445, "01 00"),
        (1104843845, "01 00"),
        (1135987200, "52 52"),
        (1136116800, "01 00"),
        (1136246399, "01 00"),
        (1230465599, "51 52"),
        (1230551999, "52 52"),
        (1230638399, "52 52"),
        (1230724799, "52 52"),
        (1230768000, "00 00"),
        (1262217600, "52 52"),
        (1262304000, "00 00"),
        (1262476800, "00 00"),
        (1262563200, "01 00"),
        (1451520000, "52 52"),
        (1451606400, "00 00"),
        (1451779200, "00 00"),
        (1451865600, "01 00"),
        (1609372800, "52 53"),
        (1609459200, "00 00"),
        (1609632000, "00 00"),
        (1609718400, "01 00"),
        (1640908800, "52 52"),
        (1640995200, "00 00"),
        (1641081600, "00 00"),
        (1641168000, "01 00"),
        (1798416000, "52 51"),
        (1798675200, "52 52"),
        (1798761600, "00 00"),
        (1798934400, "00 00"),
        (1799020800, "01 00"),
        (0, "00 00"),
        (-1, "52 52"),
        (-2208988800, "00 01"),
        (-2147472000, "49 49"),
        (951825600, "09 08"),
        (978220801, "52 52"),
        (2147483647, "03 02"),
        (1700000000, "46 45"),
        (1720053000, "26 27"),
        (915192000, "00 00"),
    ];

    #[test]
    fn u_and_w_match_the_glue() {
        assert_eq!(GLUE_WEEKS.len(), TABLE.len());
        for &(t, want) in GLUE_WEEKS {
            assert_eq!(fmt("%U %W", &at(t)), want, "t = {t}");
        }
    }

    /// `%V` where ISO 8601 and the glue disagree (glue: 53): 2006-01-01 and 2022-01-01.
    #[test]
    fn v_follows_iso_not_the_glue() {
        assert_eq!(fmt("%V %G", &at(1_136_073_600)), "52 2005");
        assert_eq!(fmt("%V %G", &at(1_640_995_200)), "52 2021");
    }

    #[test]
    fn table_matches_c_library() {
        for &(t, want) in TABLE {
            assert_eq!(fmt(ALL, &at(t)), want, "t = {t}");
        }
    }

    /// `goldens/time_strftime.stdout` (node, emscripten 3.1.6 glue) for t = 1700000000.
    #[test]
    fn golden_time_strftime() {
        let g = at(1_700_000_000);
        let cases: &[(&str, &str)] = &[
            ("%Y-%m-%d %H:%M:%S", "2023-11-14 22:13:20"),
            ("%a %b %e %H:%M:%S %Y", "Tue Nov 14 22:13:20 2023"),
            ("%A, %d %B %Y", "Tuesday, 14 November 2023"),
            ("%j %U %W %V %G %u %w", "318 46 45 46 2023 2 2"),
            ("%I:%M:%S %p", "10:13:20 PM"),
            ("%D %T %R", "11/14/23 22:13:20 22:13"),
            ("%y %C %g %h", "23 20 23 Nov"),
            ("[%n%t%%]", "[\n\t%]"),
            ("%c", "Tue Nov 14 22:13:20 2023"),
            ("%x %X", "11/14/23 22:13:20"),
        ];
        for &(format, want) in cases {
            assert_eq!(fmt(format, &g), want, "{format}");
            let bounded = strftime_bounded(format.as_bytes(), &g, "GMT", 128).expect("fits");
            assert_eq!(bounded.len() - 1, want.len(), "returned count of {format}");
            assert_eq!(bounded.last(), Some(&0));
        }
        // "strftime too small -> 0": "2023-11-14" + NUL does not fit in 5 bytes.
        assert_eq!(strftime_bounded(b"%Y-%m-%d", &g, "GMT", 5), None);
    }

    #[test]
    fn bounded_counts_the_nul() {
        let g = at(1_700_000_000);
        assert_eq!(strftime_bounded(b"%Y", &g, "", 4), None);
        assert_eq!(strftime_bounded(b"%Y", &g, "", 5), Some(b"2023\0".to_vec()));
        assert_eq!(strftime_bounded(b"", &g, "", 1), Some(vec![0]));
        assert_eq!(strftime_bounded(b"", &g, "", 0), None);
    }

    #[test]
    fn c_uses_the_glue_expansion() {
        // Zero-padded day as in the glue ("%a %b %d ..."), not C99's space-padded %e.
        assert_eq!(fmt("%c", &at(1_704_326_400)), "Thu Jan 04 00:00:00 2024");
        assert_eq!(fmt("%Ec", &at(1_704_326_400)), "Thu Jan 04 00:00:00 2024");
        assert_eq!(fmt("%e|%d", &at(1_704_326_400)), " 4|04");
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // (y, m, d, %G, %V): hand-checked against ISO 8601 calendars.
        let cases: &[(i64, i32, i32, i64, &str)] = &[
            (2004, 12, 31, 2004, "53"),
            (2005, 1, 1, 2004, "53"),
            (2005, 1, 2, 2004, "53"),
            (2005, 1, 3, 2005, "01"),
            (2006, 1, 1, 2005, "52"),
            (2008, 12, 29, 2009, "01"),
            (2010, 1, 3, 2009, "53"),
            (2010, 1, 4, 2010, "01"),
            (2020, 12, 31, 2020, "53"),
            (2021, 1, 3, 2020, "53"),
            (2021, 1, 4, 2021, "01"),
            (2022, 1, 1, 2021, "52"),
            (2024, 12, 30, 2025, "01"),
            (2026, 12, 31, 2026, "53"),
            (2027, 1, 3, 2026, "53"),
            (1999, 1, 1, 1998, "53"),
            (2000, 1, 2, 1999, "52"),
            (2000, 1, 3, 2000, "01"),
        ];
        for &(y, m, d, iso_year, week) in cases {
            let mut tm = Tm {
                year: i32::try_from(y - 1900).expect("fits"),
                mon: m - 1,
                mday: d,
                ..Tm::default()
            };
            crate::time::timegm(&mut tm).expect("in range");
            assert_eq!(
                fmt("%G %V", &tm),
                format!("{iso_year} {week}"),
                "{y}-{m}-{d}"
            );
            assert_eq!(
                fmt("%g", &tm),
                format!("{:02}", iso_year % 100),
                "{y}-{m}-{d}"
            );
        }
    }

    #[test]
    fn zone_and_offset() {
        let mut tm = at(0);
        assert_eq!(fmt("%z %Z", &tm), "+0000 GMT");
        assert_eq!(
            String::from_utf8(strftime(b"[%Z]", &tm, "")).expect("UTF-8"),
            "[]"
        );
        tm.gmtoff = 5 * 3600 + 30 * 60;
        assert_eq!(fmt("%z", &tm), "+0530");
        tm.gmtoff = -(9 * 3600 + 45 * 60);
        assert_eq!(fmt("%z", &tm), "-0945");
        tm.gmtoff = -59;
        assert_eq!(fmt("%z", &tm), "-0000");
        // Substituted text is not rescanned.
        assert_eq!(
            String::from_utf8(strftime(b"%Z", &tm, "%Y")).expect("UTF-8"),
            "%Y"
        );
    }

    #[test]
    fn literals_unknown_conversions_and_modifiers() {
        let g = at(1_700_000_000);
        assert_eq!(fmt("plain text", &g), "plain text");
        assert_eq!(fmt("%%c %%%Y", &g), "%c %2023");
        assert_eq!(fmt("%q %K", &g), "%q %K");
        assert_eq!(fmt("100%", &g), "100%");
        assert_eq!(fmt("%", &g), "%");
        assert_eq!(
            fmt("%EY %EC %Ey %Ex %EX", &g),
            "2023 20 23 11/14/23 22:13:20"
        );
        assert_eq!(
            fmt("%Od %Oe %OH %OI %Om %OM %OS %Ou %OU %OV %Ow %OW %Oy", &g),
            "14 14 22 10 11 13 20 2 46 46 2 45 23"
        );
        // Modifiers on conversions they do not apply to are copied.
        assert_eq!(fmt("%Ez %OB %E", &g), "%Ez %OB %E");
        assert_eq!(fmt("%E%Y", &g), "%E2023");
        // Non-ASCII and non-UTF-8 format bytes pass through untouched.
        assert_eq!(strftime("ü%Y".as_bytes(), &g, ""), "ü2023".as_bytes());
        assert_eq!(strftime(b"\xff%m\x80", &g, ""), b"\xff11\x80");
    }

    #[test]
    fn twelve_hour_clock() {
        for (hour, want) in [
            (0, "12 AM"),
            (1, "01 AM"),
            (11, "11 AM"),
            (12, "12 PM"),
            (13, "01 PM"),
            (23, "11 PM"),
        ] {
            let tm = Tm { hour, ..at(0) };
            assert_eq!(fmt("%I %p", &tm), want, "hour {hour}");
        }
    }

    #[test]
    fn out_of_range_fields_do_not_panic() {
        let tm = Tm {
            wday: 9,
            mon: -1,
            yday: -400,
            hour: -3,
            year: i32::MIN,
            ..Tm::default()
        };
        let out = fmt("%a %A %b %B %u %U %V %W %G %g %I %p %j %y %C %Y", &tm);
        assert!(out.starts_with("? ? ? ? 9 "), "{out}");
        let big = Tm {
            year: i32::MAX,
            mday: 5,
            ..Tm::default()
        };
        assert_eq!(fmt("%Y %y %C %e", &big), "2147485547 47 21474855  5");
    }
}
