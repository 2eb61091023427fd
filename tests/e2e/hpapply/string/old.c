/* string: the fix changes a string literal. */
__attribute__((noinline)) const char *greeting(void)
{
	return "greeting=hello from version one";
}

const char *step(int i)
{
	(void)i;
	return greeting();
}
