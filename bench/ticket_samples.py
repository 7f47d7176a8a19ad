"""What both desk benchmarks share (ours and django-helpdesk's, which runs in its own venv):
the same ticket texts, so the two seeds are shaped alike, and the same timing loop.
Standard library only, so either venv can import it."""

import statistics
import time

SUBJECTS = [
    "Where is my order {n}?", "Reschedule my appointment", "Question about invoice {n}", "Refund for a damaged lamp",
    "Insurance pre-authorization", "Do you take new patients?", "Password reset not working", "Wholesale pricing",
    "Broken tooth, need help today", "Still waiting for a reply", "Wrong size rug", "Billing error on my statement",
]
BODIES = [
    "Hi, I ordered {n} two weeks ago and the tracking has not moved since Monday. Can you check?",
    "hello can i move my cleaning to next tuesday after 3pm? thanks",
    "I was charged twice for the same visit, $189.50 each time. Please fix this.",
    "This is the third time I'm writing. Nobody answers. Very disappointed.",
    "Do you have the walnut side table in stock? What are the dimensions?",
    "We are a boutique hotel looking for 40 throws, budget around $3,000, needed by March.",
]


def measure(client, urls, requests):
    times = []
    for i in range(requests):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]
