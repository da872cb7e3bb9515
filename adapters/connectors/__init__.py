"""What partners' systems send to parcours, read and checked at the door."""
