"""Residents report trees and places; foresters answer; the open-data page."""
