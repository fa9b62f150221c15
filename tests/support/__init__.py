"""Test scaffolding shared by the suites (fake AWS, the Comprehend stub, races): one copy each."""
