"""A spinner on stderr while waiting for the first token (terminal only).

It shows only once the wait has lasted SHOW_AFTER seconds: an answer that starts sooner (a local
server, a warm model) never flashes it, and never pays for loading Rich's live display. Its
message may change while it runs (`thinking…` once reasoning arrives that nothing draws).
"""

from __future__ import annotations

import threading

from wai.environment import Environment
from wai.render.console import start_thread_without_sigint

SHOW_AFTER = 0.15
FRAME_INTERVAL = 0.08  # Rich's own pace for a status spinner


class Spinner:
    """One thread of its own waits, then shows, redraws and takes down the spinner: Rich's live
    display runs without a refresh thread, so `stop` can wait for everything to end."""

    def __init__(
        self, env: Environment, message: str = "waiting for the model…", delay: float = SHOW_AFTER
    ):
        self.env = env
        self.message = message
        self.delay = delay
        self.shown = threading.Event()  # set while the spinner is on screen
        self.message_shown = threading.Event()  # set once a frame has drawn `message`
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Shown, or about to be."""
        return self.thread is not None

    def set_message(self, message: str) -> None:
        """Say `message` from the next frame on (or from the start, when not shown yet)."""
        self.message = message
        self.message_shown.clear()  # after: a frame that sets it again has drawn this message

    def start(self) -> None:
        if not self.env.stderr_is_live or self.active:
            return
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, daemon=True)
        start_thread_without_sigint(self.thread.start)

    def _run(self) -> None:
        if self.stopping.wait(self.delay):
            return  # the answer came first
        from rich.console import Console
        from rich.live import Live
        from rich.spinner import Spinner as Dots

        console = Console(file=self.env.stderr, no_color=self.env.no_color)
        message = self.message  # read once a frame: `set_message` may change it from any thread
        dots = Dots("dots", message, style="status.spinner")
        live = Live(
            dots,
            console=console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        live.start(refresh=True)
        self.shown.set()
        try:
            while True:
                if message == self.message:
                    self.message_shown.set()
                if self.stopping.wait(FRAME_INTERVAL):
                    break
                if message != self.message:
                    message = self.message
                    dots.update(text=message)
                live.refresh()
        finally:
            live.stop()  # transient: the line is cleared, the cursor shown again
            self.shown.clear()

    def stop(self) -> None:
        """Take the spinner down, or keep it from showing. When this returns, the spinner's
        thread has ended and the terminal is as it was."""
        if self.thread is None:
            return
        self.stopping.set()
        self.thread.join()
        self.thread = None
