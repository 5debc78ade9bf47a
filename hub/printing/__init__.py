"""Printable badges and cards (PDF) drawn with ReportLab's own barcode support."""
