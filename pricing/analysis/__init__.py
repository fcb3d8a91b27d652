"""Questions about the deal history: the drift report, policy simulation, price-change impact."""
