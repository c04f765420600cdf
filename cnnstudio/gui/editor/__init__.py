"""The Architecture section: a QGraphicsScene editor over the pure Graph."""
