"""The 20 regions of Kazakhstan: 17 oblasts and the cities of Astana, Almaty and Shymkent."""
