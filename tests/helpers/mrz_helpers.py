"""MRZ lines for tests: the ICAO 9303 specimens, and passports of fixture participants built with a
check-digit routine written here from the standard (not regdesk's own)."""

from __future__ import annotations

# ICAO Doc 9303 part 4, Appendix A (TD3, the passport of Anna Maria Eriksson of Utopia).
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
# Part 5 (TD1 card) and part 6 (TD2 card) of the same holder.
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
# Part 11, Appendix D.2: a TD1 card whose number (D23145890734) is longer than its field.
TD1_LONG = ("I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2", "STEVENSON<<PETER<JOHN<<<<<<<<<")
TD2_LONG = ("I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<", "D23145890<UTO3407127M95071227349<<<8")
# The TD1 card with the code "ID" (no filler after the I): its number comes before the first '<'.
TD1_ID = ("IDUTOD231458907<<<<<<<<<<<<<<<", *TD1[1:])
# An MRV-A visa (part 7): not an identity document.
VISA = ("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<")


def typed(lines: tuple[str, ...] | list[str], end: str = "\r") -> str:
    """What a keyboard-wedge reader types: each line followed by Enter."""
    return "".join(line + end for line in lines)


def keys(lines: tuple[str, ...] | list[str]) -> list[str]:
    """What Pilot presses for a reader's burst: each line's characters, then Enter."""
    out: list[str] = []
    for line in lines:
        out += [*line, "enter"]
    return out


def digit(text: str) -> str:
    values = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
    weights = (7, 3, 1)
    return str(sum(values[ch] * weights[i % 3] for i, ch in enumerate(text)) % 10)


def passport(
    surname: str,
    given: str,
    number: str,
    *,
    state: str = "CHE",
    nationality: str | None = None,
    birth: str = "650312",
    sex: str = "M",
    expiry: str = "251130",
    personal: str = "",
) -> tuple[str, str]:
    """A TD3 passport with every check digit right."""
    nationality = nationality or state
    name = (surname.replace(" ", "<") + "<<" + given.replace(" ", "<"))[:39].ljust(39, "<")
    line1 = f"P<{state.ljust(3, '<')}{name}"
    number_field = number.ljust(9, "<")
    personal_field = personal.ljust(14, "<")
    personal_digit = digit(personal_field) if personal else "<"
    line2 = (
        f"{number_field}{digit(number_field)}{nationality.ljust(3, '<')}{birth}{digit(birth)}{sex}"
        f"{expiry}{digit(expiry)}{personal_field}{personal_digit}"
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1, line2 + digit(composite)
