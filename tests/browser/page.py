"""The try-out page as the browser tests use it, in a person's terms: act as a member, open a
channel, a thread or the DMs, type a slash command with its options (and the bot's autocomplete),
read messages and click their buttons, fill in a form, move the clock, take a screenshot.

The page redraws what changed on every live update, so an element found a moment ago may be gone
the next: every lookup here is made again on each try of an explicit wait, and nothing is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

if TYPE_CHECKING:
    from tests.browser.launcher import Sandbox

T = TypeVar("T")

#: How long a wait may last before the test fails (the bot answers a command within Discord's
#: 3 s; a busy machine is given far more).
WAIT = 30.0
#: What a try may run into while the page redraws; the wait tries again.
REDRAWN = (
    NoSuchElementException,
    StaleElementReferenceException,
    ElementClickInterceptedException,
    ElementNotInteractableException,
)
#: The most "Next scheduled" clicks a test may need to reach what it waits for.
MOST_SKIPS = 20


def css(root: WebDriver | WebElement, selector: str) -> list[WebElement]:
    return root.find_elements(By.CSS_SELECTOR, selector)


def source_text(element: WebElement) -> str:
    """The element's text as written, not as styled (some labels are upper-cased by CSS)."""
    return (element.get_attribute("textContent") or "").strip()


def count_on(label: str, text: str) -> int:
    """The count a button shows after its label: ``Loved it · 2`` -> 2."""
    found = re.search(rf"{re.escape(label)}\s*·\s*(\d+)", text)
    assert found, f"no count after {label!r} in {text!r}"
    return int(found.group(1))


class TryoutPage:
    """The page at ``{base_url}/app`` in one browser, with the try-out behind it."""

    def __init__(
        self, driver: WebDriver, base_url: str, shot_dirs: list[Path], sandbox: Sandbox
    ) -> None:
        self.driver = driver
        self.base_url = base_url
        self.shot_dirs = shot_dirs
        self.sandbox = sandbox

    # -- waiting and clicking ------------------------------------------------------------------

    def wait_for(self, condition: Callable[[WebDriver], T | None], what: str) -> T:
        """``condition``'s first truthy answer, tried again while the page redraws."""
        wait = WebDriverWait(self.driver, WAIT, poll_frequency=0.1, ignored_exceptions=REDRAWN)
        answer = wait.until(condition, f"waited {WAIT:.0f} s for {what}")
        assert answer is not None
        return answer

    def read(self, look: Callable[[WebDriver], T], what: str) -> T:
        """What ``look`` reads (empty or not), read again if the page redrew it meanwhile."""
        seen: list[T] = []

        def looked(driver: WebDriver) -> bool:
            seen[:] = [look(driver)]
            return True

        self.wait_for(looked, what)
        return seen[0]

    def click(self, find: Callable[[WebDriver], WebElement | None], what: str) -> None:
        """Find the element and click it, finding it again if the page redrew it meanwhile."""

        def clicked(driver: WebDriver) -> bool:
            element = find(driver)
            if element is None:
                return False
            element.click()
            return True

        self.wait_for(clicked, f"{what} to click")

    # -- the page --------------------------------------------------------------------------------

    def open(self) -> None:
        """Open the page with nothing remembered (the first plain member, in #general)."""
        # The page saves who and where on every update, so its memory is cleared from another
        # document of its origin, where the page is not running.
        self.driver.get(f"{self.base_url}/app/static/style.css")
        self.driver.execute_script("window.localStorage.clear();")
        self.console_errors()  # what the previous test's page logged is not this test's
        self.driver.get(f"{self.base_url}/app")
        self.wait_for(
            lambda d: (
                self.bot_status() == "bot online" and css(d, "#switcher .member-pick.current")
            ),
            "the page to show the server with the bot online",
        )

    def bot_status(self) -> str:
        return self.read(lambda d: d.find_element(By.ID, "bot-status").text.strip(), "bot status")

    def guild_name(self) -> str:
        return self.read(lambda d: d.find_element(By.ID, "guild-name").text, "the server's name")

    def console_errors(self) -> list[str]:
        """The errors the page logged in the browser's console since the last call."""
        entries = self.driver.get_log("browser")  # type: ignore[attr-defined]
        return [str(e["message"]) for e in entries if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> None:
        """``<name>.png`` of the window, with the pointer moved off the messages (a hovered
        message shows its toolbar)."""
        ActionChains(self.driver).move_to_element(
            self.driver.find_element(By.CSS_SELECTOR, "#topbar .brand")
        ).perform()
        png = self.driver.get_screenshot_as_png()
        for directory in self.shot_dirs:
            (directory / f"{name}.png").write_bytes(png)

    # -- who and where ---------------------------------------------------------------------------

    def members(self) -> list[str]:
        """Every member the switcher offers, named in the bar or in its "more" menu:
        ``juno (owner)``, ``ines (moderator)``, ``wren`` …"""
        return self.read(
            lambda d: [source_text(e) for e in css(d, "#switcher .member-pick")], "members"
        )

    def members_in_the_bar(self) -> list[str]:
        """The members named in the bar itself (not in its menu)."""
        return self.read(
            lambda d: [e.text for e in css(d, "#switcher > .member-pick")], "the bar's members"
        )

    def more_members(self) -> str:
        """The label of the switcher's menu of the other members (``3 more ▾``), or ""."""
        return self.read(
            lambda d: "".join(e.text for e in css(d, "#switcher .member-more")), "the menu button"
        )

    def open_member_menu(self) -> list[str]:
        """Open the "N more ▾" menu (if it is closed); what it offers, as shown."""
        if not css(self.driver, "#member-menu:not([hidden])"):
            self.click(lambda d: d.find_element(By.ID, "member-more"), "the members' menu")
        return self.wait_for(
            lambda d: [e.text for e in css(d, "#member-menu:not([hidden]) > *") if e.text] or None,
            "the members' menu to open",
        )

    def member_menu_is_open(self) -> bool:
        return self.read(lambda d: bool(css(d, "#member-menu:not([hidden])")), "the menu")

    def current_member(self) -> str:
        return self.read(
            lambda d: d.find_element(By.CSS_SELECTOR, ".member-pick.current").text.split(" (")[0],
            "the member acted as",
        )

    def act_as(self, username: str) -> None:
        """Switch to ``username``, named in the bar or else picked from its menu."""

        def pick(driver: WebDriver) -> WebElement | None:
            for button in css(driver, "#switcher .member-pick"):
                if source_text(button).split(" (")[0] == username:
                    if not button.is_displayed():
                        self.open_member_menu()
                    return button
            return None

        self.click(pick, f"{username} in the member switcher")
        self.wait_for(lambda d: self.current_member() == username, f"the page to act as {username}")

    def add_member(self, name: str) -> None:
        """Join as a new member through "+ add a member" (in the menu when there is one)."""
        if self.more_members():
            self.open_member_menu()
        self.click(
            lambda d: next(
                (e for e in css(d, "#switcher .link-button") if e.text == "+ add a member"), None
            ),
            "+ add a member",
        )
        field = self.wait_for(
            lambda d: next((e for e in css(d, ".add-member-input") if e.is_displayed()), None),
            "the new member's name field",
        )
        field.send_keys(name + Keys.RETURN)
        self.wait_for(lambda d: self.current_member() == name, f"the page to act as {name}")

    def top_bar_is_one_line(self) -> bool:
        """Whether the switcher, the clock and the bot's status sit on one row of the bar."""
        rows = self.read(
            lambda d: [
                d.find_element(By.ID, name).rect for name in ("switcher", "clock", "bot-status")
            ],
            "the top bar",
        )
        return all(r["y"] < rows[0]["y"] + rows[0]["height"] for r in rows) and all(
            rows[0]["y"] < r["y"] + r["height"] for r in rows
        )

    def channel_names(self) -> list[str]:
        """The channel list, threads included, in order."""
        return self.read(
            lambda d: [e.text for e in css(d, "#channel-list .channel .channel-name")],
            "the channel list",
        )

    def chat_title(self) -> str:
        return self.read(
            lambda d: d.find_element(By.CSS_SELECTOR, "#chat-header strong").text,
            "the open channel's name",
        )

    def open_channel(self, name: str) -> None:
        """Open a channel or thread by the name the channel list shows."""

        def entry(driver: WebDriver) -> WebElement | None:
            for channel in css(driver, "#channel-list .channel"):
                if channel.find_element(By.CSS_SELECTOR, ".channel-name").text == name:
                    return channel
            return None

        self.click(entry, f"{name} in the channel list")
        self.wait_for(lambda d: self.chat_title() == name, f"{name} to open")

    def open_dm(self) -> None:
        """Open the member's DMs with the bot."""
        self.click(lambda d: d.find_element(By.CSS_SELECTOR, "#dm-list .channel.dm"), "the DM")
        self.wait_for(
            lambda d: d.find_element(By.CSS_SELECTOR, "#chat-header .header-icon").text == "@",
            "the DMs to open",
        )

    def event_card(self, name: str) -> str:
        """An event's card in the sidebar (status, time, name, interested count), as written."""

        def card(driver: WebDriver) -> str | None:
            for event in css(driver, "#event-list .event"):
                if event.find_element(By.CSS_SELECTOR, ".event-name").text == name:
                    return " · ".join(source_text(part) for part in css(event, ":scope > *"))
            return None

        return self.wait_for(card, f"the event {name!r} in the sidebar")

    def click_interested(self, name: str) -> None:
        def button(driver: WebDriver) -> WebElement | None:
            for event in css(driver, "#event-list .event"):
                if event.find_element(By.CSS_SELECTOR, ".event-name").text == name:
                    return event.find_element(By.CSS_SELECTOR, "button")
            return None

        self.click(button, f"Interested on the event {name!r}")

    # -- the composer ----------------------------------------------------------------------------

    def composer_error(self) -> str:
        return self.read(
            lambda d: d.find_element(By.CSS_SELECTOR, "#composer .composer-error").text,
            "the composer's error line",
        )

    def command_list(self, typed: str) -> list[str]:
        """Type ``typed`` (``/`` and the start of a command) and read the commands offered."""
        box = self.driver.find_element(By.CSS_SELECTOR, "#composer textarea.composer-text")
        box.clear()
        box.send_keys(typed)
        return self.wait_for(
            lambda d: [e.text for e in css(d, "#composer .composer-popup .popup-label")],
            f"the commands matching {typed!r}",
        )

    def start_command(self, name: str) -> None:
        """Type ``/name`` and pick it from the list: the box turns into the command's options."""
        self.command_list(f"/{name}")

        def item(driver: WebDriver) -> WebElement | None:
            for entry in css(driver, "#composer .composer-popup .popup-item"):
                if entry.find_element(By.CSS_SELECTOR, ".popup-label").text == f"/{name}":
                    return entry
            return None

        self.click(item, f"/{name} in the command list")
        self.wait_for(
            lambda d: d.find_element(By.CSS_SELECTOR, "#composer .command-chip").text == f"/{name}",
            f"the composer to take /{name}'s options",
        )

    def _option_field(self, name: str) -> WebElement | None:
        for field in css(self.driver, "#composer .option-field"):
            if field.find_element(By.CSS_SELECTOR, ".option-name").text == f"{name}:":
                return field
        return None

    def option_input(self, name: str) -> WebElement:
        """The option's input; an optional one is added from the bar above the box first."""
        if self._option_field(name) is None:

            def chip(driver: WebDriver) -> WebElement | None:
                for button in css(driver, "#composer .optional-chip"):
                    if button.text == name:
                        return button
                return None

            self.click(chip, f"the optional option {name}")
        field = self.wait_for(lambda d: self._option_field(name), f"the option field {name}")
        return field.find_element(By.CSS_SELECTOR, "input")

    def fill_option(self, name: str, text: str) -> None:
        self.option_input(name).send_keys(text)

    def suggestions(self, name: str, typed: str, expected: str) -> list[str]:
        """Type into the option and wait until the list above the box (for that option)
        offers something containing ``expected``; everything offered."""
        self.option_input(name).send_keys(typed)

        def offered(driver: WebDriver) -> list[str] | None:
            popup = driver.find_element(By.CSS_SELECTOR, "#composer .composer-popup")
            title = popup.find_element(By.CSS_SELECTOR, ".popup-title strong")
            if not popup.is_displayed() or source_text(title) != name:
                return None
            labels = [e.text for e in css(popup, ".popup-item .popup-label")]
            return labels if any(expected in label for label in labels) else None

        return self.wait_for(offered, f"{name} to offer {expected!r} for {typed!r}")

    def pick_suggestion(self, name: str, wanted: str) -> str:
        """Click the first suggestion containing ``wanted``; the label the option now shows."""
        picked: list[str] = []

        def item(driver: WebDriver) -> WebElement | None:
            for entry in css(driver, "#composer .composer-popup .popup-item"):
                label = entry.find_element(By.CSS_SELECTOR, ".popup-label").text
                if wanted in label:
                    picked[:] = [label]
                    return entry
            return None

        self.click(item, f"the suggestion {wanted!r}")
        self.wait_for(
            lambda d: self.option_input(name).get_attribute("value") == picked[0],
            f"{name} to take {picked[0]!r}",
        )
        return picked[0]

    def send(self) -> None:
        """Send what the composer holds and wait for the bot's answer (the page shows it once
        the bot has answered); fails with the error the page shows, if any."""
        self.click(lambda d: d.find_element(By.CSS_SELECTOR, "#composer .send"), "the send button")

        def settled(driver: WebDriver) -> bool:
            status = driver.find_element(By.CSS_SELECTOR, "#composer .composer-status").text
            chip = driver.find_element(By.CSS_SELECTOR, "#composer .command-chip")
            return bool(self.composer_error()) or (not status and not chip.is_displayed())

        self.wait_for(settled, "the command to be answered")
        assert not self.composer_error(), f"the page refused it: {self.composer_error()}"

    # -- messages --------------------------------------------------------------------------------

    def _message(self, texts: tuple[str, ...], ephemeral: bool | None) -> WebElement | None:
        """The latest message showing all of ``texts``."""
        for message in reversed(css(self.driver, "#message-list > .msg")):
            classes = (message.get_dom_attribute("class") or "").split()
            if ephemeral is not None and ephemeral != ("ephemeral" in classes):
                continue
            shown = message.text
            if all(text in shown for text in texts):
                return message
        return None

    def wait_for_message(self, *texts: str, ephemeral: bool | None = None) -> str:
        """The text of the latest message showing all of ``texts``, once there is one."""

        def text(driver: WebDriver) -> str | None:
            found = self._message(texts, ephemeral)
            return None if found is None else found.text

        return self.wait_for(text, f"a message with {texts}")

    def ephemeral_messages(self) -> list[str]:
        """The text of each "Only you can see this" message in the open channel."""
        return self.read(
            lambda d: [e.text for e in css(d, "#message-list > .msg.ephemeral")],
            "the ephemeral messages",
        )

    def has_message(self, *texts: str) -> bool:
        try:
            return self._message(texts, None) is not None
        except StaleElementReferenceException:
            return False

    def show_message(self, *texts: str, block: str = "center") -> None:
        """Scroll the latest message showing ``texts`` to the middle of the view (``block``:
        or ``"start"``, its top at the top)."""

        def shown(driver: WebDriver) -> bool:
            message = self._message(texts, None)
            if message is None:
                return False
            driver.execute_script(
                "arguments[0].scrollIntoView({block: arguments[1]});", message, block
            )
            return True

        self.wait_for(shown, f"a message with {texts} to scroll to")

    def message_time(self, *texts: str) -> str:
        """The time shown beside the author of the latest message showing ``texts``."""

        def shown(driver: WebDriver) -> str | None:
            message = self._message(texts, None)
            if message is None:
                return None
            return "".join(e.text for e in css(message, ".msg-time")) or None

        return self.wait_for(shown, f"the time of a message with {texts}")

    def image_widths(self, *texts: str) -> list[int]:
        """The natural width of each picture in the latest message showing ``texts``, once
        loaded (0 for one that is loading or could not be)."""

        def widths(driver: WebDriver) -> list[int]:
            message = self._message(texts, None)
            if message is None:
                return []
            return [
                int(
                    driver.execute_script(
                        "return arguments[0].complete ? arguments[0].naturalWidth : 0;", image
                    )
                )
                for image in css(message, "img")
            ]

        return self.read(widths, f"the pictures in a message with {texts}")

    def _button(self, label: str, texts: tuple[str, ...]) -> WebElement | None:
        message = self._message(texts, None)
        if message is None:
            return None
        for button in css(message, ".components .button"):
            if label in button.text:
                return button
        return None

    def button_text(self, label: str, *texts: str) -> str:
        """The full text of a button (its emoji, label and count) on the latest message
        showing ``texts``."""

        def text(driver: WebDriver) -> str | None:
            found = self._button(label, texts)
            return None if found is None else found.text.replace("\n", " ")

        return self.wait_for(text, f"a {label!r} button on the message with {texts}")

    def click_button(self, label: str, *texts: str) -> None:
        self.click(lambda d: self._button(label, texts), f"{label!r} on the message with {texts}")

    def embed_field(self, name: str, *texts: str) -> str:
        """The value of an embed's field on the latest message showing ``texts``."""

        def value(driver: WebDriver) -> str | None:
            message = self._message(texts, None)
            for field in css(message, ".embed-field") if message else []:
                if field.find_element(By.CSS_SELECTOR, ".embed-field-name").text == name:
                    return field.find_element(By.CSS_SELECTOR, ".embed-field-value").text
            return None

        return self.wait_for(value, f"the field {name!r} on the message with {texts}")

    # -- forms (modals) --------------------------------------------------------------------------

    def form_title(self) -> str:
        return self.wait_for(
            lambda d: d.find_element(By.CSS_SELECTOR, "#modal-root form.modal h2").text,
            "a form to open",
        )

    def form_labels(self) -> list[str]:
        return self.read(
            lambda d: [source_text(e) for e in css(d, "#modal-root .modal-label")],
            "the form's labels",
        )

    def form_input(self, label: str) -> WebElement:
        def control(driver: WebDriver) -> WebElement | None:
            for field in css(driver, "#modal-root .modal-field"):
                written = source_text(field.find_element(By.CSS_SELECTOR, ".modal-label"))
                if written.startswith(label):
                    return field.find_element(By.CSS_SELECTOR, "input, textarea, select")
            return None

        return self.wait_for(control, f"the form's field {label!r}")

    def submit_form(self) -> None:
        self.click(
            lambda d: d.find_element(By.CSS_SELECTOR, "#modal-root button[type=submit]"),
            "the form's Submit",
        )

    def form_error(self) -> str:
        return self.wait_for(
            lambda d: d.find_element(By.CSS_SELECTOR, "#modal-root .modal-error").text,
            "the form to say what is wrong",
        )

    def wait_for_form_to_close(self) -> None:
        self.wait_for(lambda d: not css(d, "#modal-root form.modal"), "the form to close")

    # -- the world's clock -----------------------------------------------------------------------

    def _move_clock(self, button_label: str) -> None:
        """Click a time button, wait for the world's clock to jump and for the bot to do what
        fell due by then."""
        before = self.sandbox.clock()["generation"]

        def button(driver: WebDriver) -> WebElement | None:
            for candidate in css(driver, "#clock button"):
                if button_label in candidate.text and candidate.is_enabled():
                    return candidate
            return None

        self.click(button, f"{button_label!r} on the clock")
        self.wait_for(
            lambda d: self.sandbox.clock()["generation"] > before, "the world's clock to jump"
        )
        self.sandbox.wait_for_bot_to_catch_up()

    def skip_ahead(self) -> None:
        """⏭ Next scheduled: to the bot's next job."""
        self._move_clock("Next scheduled")

    def add_hour(self) -> None:
        self._move_clock("+1 h")

    def add_day(self) -> None:
        self._move_clock("+1 day")

    def skip_ahead_until(self, seen: Callable[[], bool], what: str) -> None:
        """Skip ahead to the bot's next job until ``seen()`` (what the bot posted stays, so
        a skip too many loses nothing)."""
        for _ in range(MOST_SKIPS):
            if seen():
                return
            self.skip_ahead()
        self.wait_for(lambda d: seen(), f"{what} within {MOST_SKIPS} skips ahead")
