/* string: the fix changes a string literal. */
__attribute__((noinline)) const char *greeting(void)
{
	return "greeting=hello from the patched version";
}

const char *step(int i)
{
	(void)i;
	return greeting();
}
