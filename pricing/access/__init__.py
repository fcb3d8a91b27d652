"""Who is acting, and what they may do: the people of a team, their tokens and roles."""
