"""Tests of the REST client layer (pulumi_customvision._rest)."""
