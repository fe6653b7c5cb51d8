"""AppProject policy: what an Application may deploy, from where, to where, and when. Pure functions."""
