"""Residents' reports of trees and places: received, answered by the region's foresters, followed
by the resident through a public number."""
