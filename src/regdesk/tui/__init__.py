"""The terminal UI (Textual). Nothing outside this package imports it.

Frame rate: Textual paints at most TEXTUAL_FPS frames a second (60 unless set), and a change
waits for the next frame: up to 17 ms at 60, which is half of what a scan lane may take from the
scanner's Enter to the verdict on screen (30 ms). The app asks for 120; screens only paint when
something changed, so an idle desk costs nothing more. Set before Textual is first imported (it
reads the variable once); an operator's own TEXTUAL_FPS wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "240")
