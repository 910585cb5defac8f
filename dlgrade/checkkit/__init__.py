"""checkkit"""
