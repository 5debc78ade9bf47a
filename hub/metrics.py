"""Prometheus metrics for the hub, at ``/metrics``: what organisers and operators watch.

    turnout_scans_total{status}                scan messages answered: accepted, duplicate, rejected
    turnout_scans_rejected_total{reason}       refused, by reason (a fixed set: hub.validate.Reason)
    turnout_ack_latency_seconds                from a scan reaching the hub to its ack leaving
    turnout_intake_waiting                     messages read and waiting for the intake
    turnout_kiosks_online                      kiosks whose last status says online
    turnout_kiosk_queued_scans{kiosk}          scans each kiosk says it holds unsynced
    turnout_kiosk_online{kiosk}                1 online, 0 offline (as each kiosk last said)

Only clients on this machine may read them, or those sending ``Authorization: Bearer TOKEN``
when ``TURNOUT_HUB_METRICS_TOKEN`` is set (a reverse proxy makes every client look local: do
not pass ``/metrics`` through it, or set the token).
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from hub.validate import Reason

ENV_TOKEN = "TURNOUT_HUB_METRICS_TOKEN"
_REASONS = {value for name, value in vars(Reason).items() if not name.startswith("_")}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HubMetrics:
    def __init__(self, store=None, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.scans = Counter("turnout_scans", "Scan messages answered, by status", ["status"],
                             registry=self.registry)
        self.rejected = Counter("turnout_scans_rejected", "Scan messages refused, by reason", ["reason"],
                                registry=self.registry)
        self.ack_latency = Histogram("turnout_ack_latency_seconds",
                                     "From a scan reaching the hub to its ack leaving",
                                     buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.waiting = Gauge("turnout_intake_waiting", "Messages read and waiting for the intake",
                             registry=self.registry)
        if store is not None:
            self.registry.register(_KioskCollector(store))

    def answered(self, status: str, reason: str | None) -> None:
        self.scans.labels(status).inc()
        if reason is not None:
            self.rejected.labels(reason if reason in _REASONS else "other").inc()


class _KioskCollector:
    """What each kiosk last said about itself, read from the store when scraped."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        kiosks = self.store.kiosks()
        online = GaugeMetricFamily("turnout_kiosk_online", "1 if the kiosk last said it is online",
                                   labels=["kiosk"])
        queued = GaugeMetricFamily("turnout_kiosk_queued_scans", "Scans the kiosk says it holds unsynced",
                                   labels=["kiosk"])
        for kiosk in kiosks:
            online.add_metric([kiosk.id], 1 if kiosk.state == "online" else 0)
            queued.add_metric([kiosk.id], kiosk.queued)
        yield GaugeMetricFamily("turnout_kiosks_online", "Kiosks whose last status says online",
                                value=sum(k.state == "online" for k in kiosks))
        yield online
        yield queued

    def describe(self):
        return []  # collected fresh at each scrape


def router(metrics: HubMetrics) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/metrics")
    def scrape(request: Request) -> Response:
        if not _may_read(request):
            return PlainTextResponse("metrics are for this machine, or need the metrics token\n",
                                     status_code=403)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    return pages


def _may_read(request: Request) -> bool:
    token = os.environ.get(ENV_TOKEN)
    sent = request.headers.get("authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if token:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback if request.client else False
    except ValueError:
        return False
