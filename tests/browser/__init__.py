"""The try-out page (``python -m bot sandbox``) driven in a real browser: headless Chromium from
Debian's packages through Selenium, against the real bot and the demo server."""
