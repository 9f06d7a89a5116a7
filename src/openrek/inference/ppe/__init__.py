"""Protective equipment (PPE): persons, their face, head and hands, and what covers them."""
